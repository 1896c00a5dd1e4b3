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
removes anything. A set_boot_order
(:mod:`computeagent.compute.boot_order`) stores the new order with the
task ``setting_boot_order`` before the driver writes it into the
guest's definition; recovery writes the stored order there again.

Records:

- a removal task (``deleting``, or ``rolling_back`` of a create that
  failed and could not be rolled back): finished by the reconciler
  (:mod:`computeagent.compute.reconciler`), ``instance.delete.end`` sent
  for a delete. If the driver cannot finish it, the record stays in
  ``error`` with its task, for the next reconciliation pass.
- ``building``: the agent died during the create. It is rolled back like
  a create that failed: what the driver made for the uuid (domain and
  files) is destroyed, the record and directory removed, and
  ``instance.create.error`` sent (``error_type`` ``AgentRestarted``), the
  only word a controller that cast the create gets. Nova marks such an
  instance ERROR; here a create succeeds or leaves nothing (docs/api.md).
  If the driver cannot roll it back now, the record stays in ``error``
  with the task ``rolling_back`` and reconciliation finishes it; the
  error notification is sent either way.
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

Guests and instance directories that no record names (the agent died
during a create before the record was in place, or during a delete after
the record file went) are the reconciler's orphans: the driver removes
what is all its own (a guest carrying its mark, a directory of only the
files the agent makes) and leaves anything else for an operator, as a
directory whose record the store could not read. Names that are not
uuids (``_base``) are not instance directories.

A state that changed while the agent was down (a guest stopped or
crashed, a domain vanished) is sent as ``instance.power_state.update``,
the record with ``old_state``, as the running agent reports changes it
did not make (:mod:`computeagent.compute.power_sync`): a controller learns
of it without asking.
"""

import collections

from oslo_context import context as oslo_context
from oslo_log import log as logging

from computeagent.compute import boot_order
from computeagent.compute import migration
from computeagent.compute import reconciler as reconciler_mod
from computeagent.compute import states

LOG = logging.getLogger(__name__)

VANISHED = ('the guest is gone: its domain vanished from the hypervisor '
            'while the agent was stopped')
INTERRUPTED_CREATE = ('the agent stopped before the create finished; '
                      'it was rolled back when the agent started again')
INTERRUPTED_ERROR_TYPE = 'AgentRestarted'
_TASK_NAMES = {reconciler_mod.DELETING: 'delete',
               reconciler_mod.ROLLING_BACK: 'rollback'}


def recover(reconciler):
    """Reconcile the records with the hypervisor and the directories.

    :param reconciler: the Reconciler, over the connected driver and the
        loaded store
    :returns: a Counter of what was done, by outcome
    :raises: DriverError if the hypervisor cannot list its guests
    """
    return _Recovery(reconciler).run()


class _Recovery(object):

    def __init__(self, reconciler):
        self.reconciler = reconciler
        self.driver = reconciler.driver
        self.store = reconciler.store
        self.notifier = reconciler.notifier
        self.ctxt = oslo_context.RequestContext()
        self.done = collections.Counter()

    def run(self):
        # Records handed over while this agent was down are its own now.
        for _uuid in self.reconciler.adopt_handed_over():
            self.done['adopted from another host'] += 1
        powers = self.driver.list_power_states()
        for uuid in sorted(self.store.uuids()):
            stored = self.store.get_stored(uuid)
            try:
                self._record(stored, powers.get(uuid, states.NOSTATE))
            except Exception:
                # One instance must not keep the agent from starting.
                LOG.exception('Could not recover instance %s', uuid)
                self.done['failed'] += 1
        self.reconciler.remove_orphans(self.done)
        LOG.info('Recovery done: %s', ', '.join(
            '%s %d' % item for item in sorted(self.done.items()))
            or 'nothing to do')
        return self.done

    # -- records -----------------------------------------------------

    def _record(self, stored, power):
        record = stored.record
        if stored.migrating_to is not None:
            outcome = migration.settle_after_restart(
                self.store, self.driver, stored, self.notifier, self.ctxt)
            LOG.warning('Instance %(uuid)s: a live migration to %(dest)s '
                        'was interrupted; the guest %(where)s',
                        {'uuid': record.uuid, 'dest': stored.migrating_to,
                         'where': 'is there now, and so is its record'
                         if outcome == 'migrated' else 'stayed here'})
            self.done['migration %s' % outcome] += 1
            if outcome == 'migrated':
                return
            stored = self.store.get_stored(record.uuid)
        if stored.task == boot_order.SETTING_BOOT_ORDER:
            LOG.warning('Instance %s: a set_boot_order was interrupted; '
                        'writing the stored order into its definition',
                        record.uuid)
            finished = self.reconciler.finish_boot_order(record.uuid)
            self.done['boot order %s' % ('finished' if finished
                                         else 'not finished')] += 1
            stored = self.store.get_stored(record.uuid)
        if stored.task in reconciler_mod.REMOVAL_TASKS:
            LOG.warning('Instance %(uuid)s: a %(what)s was interrupted; '
                        'finishing it', {'uuid': record.uuid,
                                         'what': _TASK_NAMES[stored.task]})
            finished = self.reconciler.finish_task_locked(stored)
            self.done['%s %s' % (_TASK_NAMES[stored.task], 'finished'
                                 if finished else 'not finished')] += 1
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

    def _roll_back_create(self, stored):
        record = stored.record
        LOG.warning('Instance %s: a create was interrupted by the agent '
                    'stopping; rolling it back', record.uuid)
        if self.reconciler.roll_back(stored):
            self.done['create rolled back'] += 1
        else:
            self.done['create not rolled back'] += 1
        # Either way the create failed, and a controller that cast it
        # hears it only so.
        self.notifier.instance(
            self.ctxt, 'create', 'error',
            dict(record.to_dict(), state=states.ERROR,
                 error=INTERRUPTED_CREATE,
                 error_type=INTERRUPTED_ERROR_TYPE))
