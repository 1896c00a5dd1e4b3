"""Running one operation on one existing instance.

:class:`OperationRunner` is what every operation on an instance goes
through (the power operations and delete of
:mod:`computeagent.compute.lifecycle`, the disk operations of
:mod:`computeagent.compute.disk_operations`): it takes the instance's
lock, brings the record in line with the hypervisor, checks the state
allows the operation (:data:`computeagent.compute.states.ALLOWED`),
sends the notifications and stores what the operation changed. The
builder and the power sync use its state refresh too.
"""

import dataclasses

from oslo_context import context as oslo_context
from oslo_log import log as logging

from computeagent.compute import states
from computeagent import exception
from computeagent.schema import instance

LOG = logging.getLogger(__name__)


class OperationRunner(object):
    """Runs operations on instances, one at a time per instance.

    :param driver: the virt driver
    :param store: the InstanceStore
    :param notifier: the Notifier
    :param locks: the InstanceLocks shared with the other parts
    """

    def __init__(self, driver, store, notifier, locks):
        self.driver = driver
        self.store = store
        self.notifier = notifier
        self.locks = locks

    def get(self, uuid):
        """The record of one instance.

        :returns: the InstanceRecord of ``uuid``
        :raises: InstanceNotFound
        """
        record = self.store.get(uuid)
        if record is None:
            raise exception.InstanceNotFound(uuid=uuid)
        return record

    def driver_view(self, record):
        """The instance as drivers get it: ``record`` with its spec.

        :param record: the InstanceRecord
        :returns: a StoredInstance holding ``record``
        :raises: InstanceNotFound if it was deleted meanwhile (callers
            that do not hold the instance's lock may see that)
        """
        stored = self.store.get_stored(record.uuid)
        if stored is None:
            raise exception.InstanceNotFound(uuid=record.uuid)
        return dataclasses.replace(stored, record=record)

    def refresh_state(self, record, recover=False):
        """Bring the record's state in line with the hypervisor's.

        :param recover: also a record in error: an operation on it (a
            hard reboot, a stop) has just succeeded
        :param record: the InstanceRecord
        :returns: the InstanceRecord, updated and stored if it changed
        """
        if record.state == states.BUILDING or (
                record.state == states.ERROR and not recover):
            return record
        power = self.driver.get_power_state(self.driver_view(record))
        if power is states.NOSTATE:
            if record.state == states.ERROR:
                return record
            return self.store.update(
                record.uuid, state=states.ERROR,
                error='the guest is gone from the hypervisor')
        if power != record.state:
            LOG.info('Instance %(uuid)s is %(new)s (was %(old)s)',
                     {'uuid': record.uuid, 'new': power,
                      'old': record.state})
            return self.store.update(record.uuid, state=power, error=None)
        return record

    def notify_change(self, old, new):
        """Tell controllers of a state the agent found, not made.

        Sends ``instance.power_state.update`` (the record, plus
        ``old_state``) when ``new`` is in another state than ``old``: a
        guest that stopped or crashed on its own, found by the power sync
        or at the start of an operation.

        :param old: the InstanceRecord as it was stored
        :param new: the InstanceRecord after a refresh
        """
        if new.state != old.state:
            self.notifier.instance(oslo_context.RequestContext(),
                                   'power_state', 'update', new.to_dict(),
                                   old_state=old.state)

    def notify_error(self, ctxt, action, payload, error):
        """Send ``instance.<action>.error``.

        The payload is the record as far as it is known, with what went
        wrong: a cast's caller learns of a failure only this way.

        :param payload: a dict, or the InstanceRecord
        """
        if not isinstance(payload, dict):
            payload = payload.to_dict()
        # What the caller is told too (computeagent.api.dispatch).
        error = exception.as_api_error(error)
        self.notifier.instance(
            ctxt, action, 'error',
            dict(payload, error=str(error),
                 error_type=type(error).__name__))

    def _check_state(self, record, operation):
        if record.state not in states.ALLOWED[operation]:
            raise exception.InvalidState(
                action=operation.replace('_', ' '), uuid=record.uuid,
                state=record.state)

    def run(self, ctxt, uuid, operation, action, call, notify=True,
            refresh=True):
        """Run one operation on one instance.

        Takes the instance's lock, checks the state allows ``operation``,
        sends ``instance.<action>.*`` notifications when ``notify``, and
        stores the InstanceRecord fields ``call(stored_instance)``
        returns (``spec`` among them replaces the stored InstanceSpec). A
        call that returns nothing (it changed nothing, or stored its
        changes itself) does not rewrite the record.

        :param uuid: the instance's uuid as the caller sent it
        :param operation: a key of ``states.ALLOWED``
        :param action: the ``<action>`` of the notifications
        :param refresh: bring the record in line with the hypervisor
            before the state check; an operation allowed from every state
            (delete) need not ask the hypervisor first
        :returns: the record once done, docs/api.md's dict (``state``
            ``deleted`` if the call removed it)
        :raises: InvalidSpec for a bad uuid, InstanceNotFound,
            InvalidState, what ``call`` raises
        """
        known = {'uuid': uuid}
        try:
            uuid = instance.validate_uuid(uuid)
            with self.locks.lock(uuid):
                stored = record = known = self.get(uuid)
                if refresh:
                    record = known = self.refresh_state(stored)
                    self.notify_change(stored, record)
                self._check_state(record, operation)
                if notify:
                    self.notifier.instance(ctxt, action, 'start',
                                           record.to_dict())
                fields = call(self.driver_view(record))
                stored = self.store.get(uuid)
                if stored is None:
                    record = dataclasses.replace(record, state='deleted')
                else:
                    if fields:
                        stored = self.store.update(uuid, **fields)
                    record = self.refresh_state(stored, recover=True)
        except Exception as error:
            if notify:
                if not isinstance(known, dict):
                    # As it is now: a failed delete left it in error.
                    known = self.store.get(known.uuid) or known
                self.notify_error(ctxt, action, known, error)
            raise
        record = record.to_dict()
        if notify:
            self.notifier.instance(ctxt, action, 'end', record)
        return record
