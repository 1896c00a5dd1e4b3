"""Level-triggered reconciliation: the records and the hypervisor agree.

Each stored instance holds what it should be and what it was last seen
to be: its record's ``state`` is what the hypervisor last showed (or
``building``/``error``), and a durable ``task`` in the store says that
the instance should be gone but is not yet:

- ``deleting``: delete_instance began (or was asked and failed part-way,
  e.g. libvirtd restarting): the guest, the files and the record are to
  go, and ``instance.delete.end`` is sent once they have;
- ``rolling_back``: a create failed and its rollback could not remove
  what the driver made: the same removal, with nothing sent when it is
  done (the create's ``instance.create.error`` was sent when it failed).

Until then the record stays, in ``error`` with the reason, so get and
list tell the truth. A reconciliation pass (:meth:`Reconciler.reconcile`)
drives everything toward that state, whatever happened before:

1. finishes every task (also a boot order stored but perhaps not yet
   in the guest's definition: :mod:`computeagent.compute.boot_order`);
2. aligns every other record with the hypervisor (the power sync of
   :mod:`computeagent.compute.power_sync`);
3. removes what no record names: a guest the driver made (it carries the
   driver's mark) and the instance directory of an unrecorded uuid, if
   all of it is the agent's own
   (:meth:`computeagent.virt.driver.ComputeDriver.cleanup_orphan`). A
   guest without the mark is never touched.

Passes run one at a time on the reconciler's thread (:meth:`run`):
periodically, and at once when asked (:meth:`request`): the driver asks
when it reconnects to its hypervisor, since the events of the outage were
lost. Start-up recovery (:mod:`computeagent.compute.recovery`) uses the
same steps before the agent serves. Every step takes the instance's lock
and looks again under it, so a pass never races an operation.
"""

import dataclasses
import os
import threading

from oslo_context import context as oslo_context
from oslo_log import log as logging

from computeagent.compute import boot_order
from computeagent.compute import migration
from computeagent.compute import states
from computeagent.compute import store as store_mod
from computeagent.virt import layout

LOG = logging.getLogger(__name__)

#: the store task of a delete under way
DELETING = 'deleting'
#: the store task of a failed create whose rollback is not finished
ROLLING_BACK = 'rolling_back'
#: tasks that end with the instance gone
REMOVAL_TASKS = (DELETING, ROLLING_BACK)


def unfinished(task, error):
    """The record's error while a removal task waits to be finished.

    :param task: one of REMOVAL_TASKS
    :param error: what the removal failed with
    """
    what = {DELETING: 'the delete',
            ROLLING_BACK: 'the rollback of the failed create'}[task]
    return ('%s could not be finished yet (the agent tries again): %s'
            % (what, error))


class Reconciler(object):
    """Finishes tasks, syncs states and removes what no record names.

    :param conf: the ConfigOpts (``instances_path``)
    :param driver: the virt driver
    :param store: the InstanceStore
    :param notifier: the Notifier
    :param locks: the InstanceLocks shared with the other parts
    :param power_sync: the PowerSync whose sync aligns the records
    """

    def __init__(self, conf, driver, store, notifier, locks, power_sync):
        self.conf = conf
        self.driver = driver
        self.store = store
        self.notifier = notifier
        self.locks = locks
        self.power_sync = power_sync
        self._wanted = threading.Event()
        # Unrecorded uuids the driver left alone (not its own): looked at
        # again only once they are gone and back, not on every pass.
        self._left_alone = set()
        #: uuids of guests a live migration is bringing here (set by the
        #: manager: LiveMigration.incoming), never orphans
        self.arriving = set

    # -- when -----------------------------------------------------------

    def request(self):
        """Ask for a pass soon; never blocks (drivers call it)."""
        self._wanted.set()

    def run(self, stop_event, interval):
        """Run passes until ``stop_event`` is set.

        :param interval: seconds between periodic passes; 0 runs passes
            only when requested
        """
        while not stop_event.is_set():
            self._wanted.wait(interval if interval > 0 else None)
            if stop_event.is_set():
                return
            self._wanted.clear()
            try:
                self.reconcile()
            except Exception:
                LOG.exception('A reconciliation pass failed')

    def wake(self):
        """End a wait of :meth:`run` (at shutdown, after setting stop)."""
        self._wanted.set()

    # -- what -----------------------------------------------------------

    def reconcile(self):
        """One pass over every instance; see the module's docstring.

        :raises: DriverError if the hypervisor cannot list its guests
        """
        self.adopt_handed_over()
        powers = self.driver.list_power_states()
        for uuid in sorted(self.store.uuids()):
            stored = self.store.get_stored(uuid)
            if stored is not None and stored.task in REMOVAL_TASKS:
                self.finish_task(uuid)
            elif stored is not None and stored.migrating_to is not None:
                self.settle_migration(uuid)
            elif (stored is not None
                  and stored.task == boot_order.SETTING_BOOT_ORDER):
                self.finish_boot_order(uuid)
        self.power_sync.sync_power_states(powers)
        self.remove_orphans()

    def settle_migration(self, uuid):
        """Finish a live migration whose end was not recorded.

        A migration under way holds the lock: this waits for it, after
        which there is nothing left to do. One whose hand-over failed
        left its mark: the guest's whereabouts settle it.
        """
        with self.locks.lock(uuid):
            stored = self.store.get_stored(uuid)
            if stored is None or stored.migrating_to is None:
                return
            outcome = migration.settle_after_restart(
                self.store, self.driver, stored, self.notifier,
                oslo_context.RequestContext())
            LOG.warning('Instance %(uuid)s: an unfinished live migration '
                        'to %(dest)s is settled: %(outcome)s',
                        {'uuid': uuid, 'dest': stored.migrating_to,
                         'outcome': outcome})

    def finish_boot_order(self, uuid):
        """Write a stored boot order the definition may lack into it.

        A set_boot_order under way holds the lock and clears its mark:
        this waits for it, after which there is nothing left to do.

        :returns: whether the record and the definition agree now
        """
        with self.locks.lock(uuid):
            stored = self.store.get_stored(uuid)
            if stored is None or stored.task != boot_order.SETTING_BOOT_ORDER:
                return True
            return boot_order.finish(self.driver, self.store, stored)

    def finish_task(self, uuid):
        """Finish the removal task of ``uuid``, under its lock.

        :returns: True if the instance is gone now
        """
        with self.locks.lock(uuid):
            stored = self.store.get_stored(uuid)
            if stored is None:
                return True
            if stored.task not in REMOVAL_TASKS:
                return False
            return self.finish_task_locked(stored)

    def finish_task_locked(self, stored, notify=True):
        """Remove what a task says must go; the caller holds the lock.

        On failure the record stays, in error with the reason, and its
        task stays for the next pass (or the next delete_instance).

        :param stored: the StoredInstance, its task one of REMOVAL_TASKS
        :param notify: send ``instance.delete.end`` for a finished delete
        :returns: True if the instance is gone now
        """
        record = stored.record
        try:
            self.remove(stored)
        except Exception as error:
            LOG.warning('The %(task)s of %(uuid)s is not finished: '
                        '%(error)s; it is tried again', {
                            'task': stored.task, 'uuid': record.uuid,
                            'error': error})
            self.store.update(record.uuid, state=states.ERROR,
                              error=unfinished(stored.task, error))
            return False
        LOG.info('Finished the %(task)s of %(uuid)s',
                 {'task': stored.task.replace('_', ' '), 'uuid': record.uuid})
        if notify and stored.task == DELETING:
            self.notifier.instance(
                oslo_context.RequestContext(), 'delete', 'end',
                dataclasses.replace(record, state='deleted').to_dict())
        return True

    def roll_back(self, stored):
        """Remove what a failed create made; the caller holds the lock.

        The record is marked ``rolling_back`` first, so that what the
        driver cannot remove now (its hypervisor unreachable) is finished
        by a later pass; a mark that cannot be written (a full disk) does
        not stop the removal being tried.

        :param stored: the StoredInstance of the create
        :returns: True if the instance is gone now
        """
        try:
            self.store.set_task(stored.uuid, ROLLING_BACK)
        except Exception:
            LOG.exception('Could not mark the rollback of %s', stored.uuid)
        stored = self.store.get_stored(stored.uuid) or stored
        try:
            return self.finish_task_locked(
                dataclasses.replace(stored, task=ROLLING_BACK))
        except Exception:
            LOG.exception('Could not roll back the create of %s',
                          stored.uuid)
            return False

    def remove(self, stored):
        """Destroy what the driver made, then forget the record.

        :raises: what the driver raises; the record is kept then
        """
        self.driver.destroy(stored)
        self.store.delete(stored.uuid)
        self.store.remove_instance_dir(stored.uuid)

    def adopt_handed_over(self):
        """Take on records another host handed over to this one.

        A live migration's source hands the record over on the shared
        instances path and then tells this host; if this host did not
        hear (it was down, the message was lost), it finds the record
        here. Only on a shared instances path.

        :returns: the uuids adopted
        """
        if not self.conf.instances_path_shared:
            return []
        adopted = []
        for uuid in sorted(self._directories() - self.store.uuids()):
            if self.store.recorded_host(uuid) != self.conf.host:
                continue
            with self.locks.lock(uuid):
                if (self.store.get_stored(uuid) is None and
                        self.store.adopt(uuid) is not None):
                    LOG.info('Instance %s was handed over to this host: '
                             'its record is adopted', uuid)
                    adopted.append(uuid)
        return adopted

    # -- what no record names ---------------------------------------------

    def orphans(self):
        """Uuids of guests and instance directories without a record."""
        found = ((set(self.driver.list_power_states()) | self._directories())
                 - self.store.uuids())
        self._left_alone &= found
        return found - self._left_alone

    def remove_orphans(self, counts=None):
        """Hand each unrecorded guest or directory to the driver.

        The driver removes it only if it is all the agent's own; what it
        leaves is logged, once while it stays.

        :param counts: a Counter to add outcomes to, or None
        """
        # Listed afresh: what the pass has just removed is no orphan.
        for uuid in sorted(self.orphans()):
            try:
                outcome = self._remove_orphan(uuid)
            except Exception:
                LOG.exception('Could not check the unrecorded %s', uuid)
                outcome = 'failed'
            if counts is not None and outcome:
                counts[outcome] += 1

    def _remove_orphan(self, uuid):
        with self.locks.lock(uuid):
            # A create accepted meanwhile has its record by now.
            if self.store.get_stored(uuid) is not None:
                return None
            if self.conf.instances_path_shared:
                owner = self.store.recorded_host(uuid)
                if (owner not in (None, self.conf.host) or
                        uuid in self.arriving()):
                    # Its record is another host's: the guest is arriving
                    # in a live migration (or leaving), and that host's
                    # agent settles it.
                    LOG.info('Leaving %(uuid)s alone: its record is '
                             '%(owner)s\'s (a live migration)',
                             {'uuid': uuid, 'owner': owner})
                    self._left_alone.add(uuid)
                    return 'orphan left'
            if (self.conf.instances_path_shared and
                    uuid not in self.driver.list_power_states()):
                # A directory alone, on storage other hosts write to: it
                # may be another host's create or delete under way.
                LOG.info('Leaving %s alone: no record names it, but the '
                         'instances path is shared and it may be another '
                         'host\'s', uuid)
                self._left_alone.add(uuid)
                return 'orphan left'
            directory = self.store.instance_dir(uuid)
            try:
                names = os.listdir(directory)
            except FileNotFoundError:
                names = []
            if store_mod.RECORD_FILE in names:
                LOG.warning('Leaving %s alone: its record could not be '
                            'read', directory)
                return 'directory left'
            reason = self.driver.cleanup_orphan(
                uuid, ignore=[n for n in names if store_mod.is_temp_file(n)])
        if reason is None:
            LOG.warning('Removed what no record names of %s (the agent or '
                        'the hypervisor stopped during a create or a '
                        'delete)', uuid)
            return 'orphan removed'
        LOG.info('Leaving %(uuid)s alone: no record names it, but '
                 '%(reason)s', {'uuid': uuid, 'reason': reason})
        self._left_alone.add(uuid)
        return 'orphan left'

    def _directories(self):
        """Instance directories that may be this agent's."""
        try:
            names = os.listdir(self.conf.instances_path)
        except FileNotFoundError:
            return set()
        found = {name for name in names if layout.is_uuid(name) and
                 os.path.isdir(os.path.join(self.conf.instances_path, name))}
        if self.conf.instances_path_shared:
            # Those whose record names another host are that host's.
            found = {uuid for uuid in found - self.store.uuids()
                     if self.store.recorded_host(uuid) in (None,
                                                           self.conf.host)}
        return found
