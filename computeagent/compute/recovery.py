"""Start-up recovery: records, guests and instance directories agree.

:meth:`computeagent.service.Service.start` runs :func:`recover` once the
records are loaded and the driver is connected, before the RPC server
takes a request, so no request ever sees what a previous process left
half done. That process may have died anywhere (``kill -9``, power
loss); every point is made recoverable: the builder
(:mod:`computeagent.compute.builder`) writes an instance's record
(``building``) before the driver makes anything and replaces it with
``running`` only once the guest runs, and a delete
(:mod:`computeagent.compute.lifecycle`) marks the record ``task:
deleting`` (kept in the store, never in the public record) before it
removes anything.

Records:

- ``task: deleting``: the delete is finished (guest, files, record),
  logged, and ``instance.delete.end`` sent. If the driver cannot finish
  it, the record is kept in ``error`` with its task; the next
  delete_instance completes it.
- ``building``: the agent died during the create. It is rolled back like
  a create that failed: what the driver made for the uuid (domain and
  files) is destroyed, the record and directory removed, and
  ``instance.create.error`` sent (``error_type`` ``AgentRestarted``), the
  only word a controller that cast the create gets. Nova marks such an
  instance ERROR; here a create succeeds or leaves nothing (docs/api.md). If
  the driver cannot roll it back, the record is kept in ``error`` for
  delete_instance.
- any other state, with a guest: adopted; the record takes the
  hypervisor's power state (the guest may have stopped or crashed while
  the agent was down). A record in ``error`` stays so: only an operation
  on it clears that.
- any other state, without a guest: ``error``, "its domain vanished from
  the hypervisor". Chosen over ``shutoff``: the libvirt driver's domains
  are persistent, so one vanishes only when something outside the agent
  undefines it; nothing is left to start, and ``shutoff`` would promise
  a start_instance that cannot work. delete_instance removes the record
  and the files. (The fake driver's guests all vanish with its process.)

Instance directories that no record names: the agent died during a
create before the record was in place, or during a delete after the
record file went. The driver removes one
(:meth:`computeagent.virt.driver.ComputeDriver.cleanup_orphan`) only if
it holds nothing but what the agent makes (disks, console logs, sockets,
the store's temporary record files) and the hypervisor has no guest of
that uuid; otherwise it is logged and left for an operator, as is a
directory whose record the store could not read. Names that are not
uuids (``_base``) are not instance directories.

Guests the agent has no record of are logged and left alone: the agent
never destroys a guest it cannot account for.

A state that changed while the agent was down (a guest stopped or
crashed, a domain vanished) is sent as ``instance.power_state.update``,
the record with ``old_state``, as the running agent reports changes it
did not make (:mod:`computeagent.compute.power_sync`): a controller learns
of it without asking.
"""

import collections
import dataclasses
import os

from oslo_context import context as oslo_context
from oslo_log import log as logging

from computeagent.compute import states
from computeagent.compute import store as store_mod
from computeagent.virt import layout

LOG = logging.getLogger(__name__)

#: the store task of a delete under way
DELETING = 'deleting'
VANISHED = ('the guest is gone: its domain vanished from the hypervisor '
            'while the agent was stopped')
INTERRUPTED_CREATE = ('the agent stopped before the create finished; '
                      'it was rolled back when the agent started again')
INTERRUPTED_ERROR_TYPE = 'AgentRestarted'


def recover(conf, driver, store, notifier):
    """Reconcile the records with the hypervisor and the directories.

    :param conf: the ConfigOpts (``instances_path``)
    :param driver: the connected virt driver
    :param store: the InstanceStore, loaded
    :param notifier: the Notifier
    :returns: a Counter of what was done, by outcome
    :raises: DriverError if the hypervisor cannot list its guests
    """
    return _Recovery(conf, driver, store, notifier).run()


class _Recovery(object):

    def __init__(self, conf, driver, store, notifier):
        self.conf = conf
        self.driver = driver
        self.store = store
        self.notifier = notifier
        self.ctxt = oslo_context.RequestContext()
        self.done = collections.Counter()

    def run(self):
        powers = self.driver.list_power_states()
        recorded = self.store.uuids()
        for uuid in sorted(recorded):
            stored = self.store.get_stored(uuid)
            try:
                self._record(stored, powers.get(uuid, states.NOSTATE))
            except Exception:
                # One instance must not keep the agent from starting.
                LOG.exception('Could not recover instance %s', uuid)
                self.done['failed'] += 1
        directories = self._directories() - recorded
        for uuid in sorted(directories):
            try:
                self._directory(uuid)
            except Exception:
                LOG.exception('Could not check the directory of %s', uuid)
                self.done['failed'] += 1
        foreign = sorted(set(powers) - recorded - directories)
        if foreign:
            LOG.info('Leaving alone %(count)d guests this agent has no '
                     'record of: %(uuids)s',
                     {'count': len(foreign), 'uuids': ', '.join(foreign)})
        LOG.info('Recovery done: %s', ', '.join(
            '%s %d' % item for item in sorted(self.done.items()))
            or 'nothing to do')
        return self.done

    # -- records -----------------------------------------------------

    def _record(self, stored, power):
        record = stored.record
        if stored.task == DELETING:
            self._finish_delete(stored)
        elif record.state == states.BUILDING:
            self._roll_back_create(stored)
        elif record.state == states.ERROR:
            LOG.info('Instance %(uuid)s stays in error: %(error)s',
                     {'uuid': record.uuid, 'error': record.error})
            self.done['kept in error'] += 1
        elif power is states.NOSTATE:
            LOG.warning('Instance %(uuid)s was %(state)s but its domain '
                        'vanished from the hypervisor; it is now in error',
                        {'uuid': record.uuid, 'state': record.state})
            self._changed(record, state=states.ERROR, error=VANISHED)
            self.done['vanished'] += 1
        else:
            if power != record.state:
                LOG.info('Instance %(uuid)s is %(new)s (was %(old)s)',
                         {'uuid': record.uuid, 'new': power,
                          'old': record.state})
                self._changed(record, state=power)
            self.done['adopted'] += 1

    def _changed(self, record, **fields):
        """Store a state found changed and tell the controllers."""
        updated = self.store.update(record.uuid, **fields)
        self.notifier.instance(self.ctxt, 'power_state', 'update',
                               updated.to_dict(), old_state=record.state)

    def _remove(self, stored):
        """Destroy what the driver made, then forget the record."""
        self.driver.destroy(stored)
        self.store.delete(stored.uuid)
        self.store.remove_instance_dir(stored.uuid)

    def _finish_delete(self, stored):
        record = stored.record
        LOG.warning('Instance %s: a delete was interrupted by the agent '
                    'stopping; finishing it', record.uuid)
        try:
            self._remove(stored)
        except Exception as error:
            LOG.error('Could not finish the delete of %(uuid)s: %(error)s; '
                      'delete_instance will try again',
                      {'uuid': record.uuid, 'error': error})
            self.store.update(
                record.uuid, state=states.ERROR,
                error='a delete was interrupted and could not be finished: '
                '%s' % error)
            self.done['delete not finished'] += 1
            return
        self.notifier.instance(
            self.ctxt, 'delete', 'end',
            dataclasses.replace(record, state='deleted').to_dict())
        self.done['delete finished'] += 1

    def _roll_back_create(self, stored):
        record = stored.record
        LOG.warning('Instance %s: a create was interrupted by the agent '
                    'stopping; rolling it back', record.uuid)
        try:
            self._remove(stored)
        except Exception as error:
            LOG.error('Could not roll back the create of %(uuid)s: '
                      '%(error)s; it is kept in error for delete_instance',
                      {'uuid': record.uuid, 'error': error})
            self.store.update(
                record.uuid, state=states.ERROR,
                error='a create was interrupted and could not be rolled '
                'back: %s' % error)
            self.done['create not rolled back'] += 1
            return
        self.notifier.instance(
            self.ctxt, 'create', 'error',
            dict(record.to_dict(), state=states.ERROR,
                 error=INTERRUPTED_CREATE,
                 error_type=INTERRUPTED_ERROR_TYPE))
        self.done['create rolled back'] += 1

    # -- directories without a record --------------------------------

    def _directories(self):
        try:
            names = os.listdir(self.conf.instances_path)
        except FileNotFoundError:
            return set()
        return {name for name in names if layout.is_uuid(name) and
                os.path.isdir(os.path.join(self.conf.instances_path, name))}

    def _directory(self, uuid):
        directory = self.store.instance_dir(uuid)
        names = os.listdir(directory)
        if store_mod.RECORD_FILE in names:
            LOG.warning('Leaving %s alone: its record could not be read',
                        directory)
            self.done['directory left'] += 1
            return
        reason = self.driver.cleanup_orphan(
            uuid, ignore=[n for n in names if store_mod.is_temp_file(n)])
        if reason is None:
            LOG.warning('Removed %s: no record named it (the agent stopped '
                        'during a create or a delete)', directory)
            self.done['directory removed'] += 1
        else:
            LOG.warning('Leaving %(dir)s alone: no record names it, but '
                        '%(reason)s', {'dir': directory, 'reason': reason})
            self.done['directory left'] += 1
