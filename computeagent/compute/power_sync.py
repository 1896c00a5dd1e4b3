"""Power-state changes the agent did not make (service hooks).

Drivers report power events, the service's event thread applies them
and each reconciliation pass (:mod:`computeagent.compute.reconciler`)
syncs every record; a change found is sent as
``instance.power_state.update``. None of this is exposed over RPC.
A guest seen shut off has its unfinished detaches finished
(:func:`computeagent.compute.disk_operations.finish_detaches`).
"""

import queue

from oslo_log import log as logging

from computeagent.compute import disk_operations
from computeagent.compute import states

LOG = logging.getLogger(__name__)


class PowerSync(object):
    """Applies power events and syncs power states.

    :param driver: the virt driver
    :param store: the InstanceStore
    :param notifier: the Notifier
    :param locks: the InstanceLocks shared with the other parts
    :param runner: the OperationRunner, for its state refresh
    """

    def __init__(self, driver, store, notifier, locks, runner):
        self.driver = driver
        self.store = store
        self.notifier = notifier
        self.locks = locks
        self.runner = runner
        self._events = queue.Queue()

    def handle_power_event(self, uuid, state):
        """A driver saw a guest change state: queue it.

        Drivers call this from any thread, including inside an operation
        that holds the instance's lock, so it must not block; the event
        thread (:meth:`process_events`) applies it.
        """
        del state  # the hypervisor is asked again when it is handled
        self._events.put(uuid)

    def process_events(self, stop_event, poll=0.5):
        """Apply queued power events until ``stop_event`` is set."""
        while not stop_event.is_set():
            try:
                uuid = self._events.get(timeout=poll)
            except queue.Empty:
                continue
            try:
                self._apply_power_event(uuid)
            except Exception:
                LOG.exception('Could not apply a power event of %s', uuid)

    def _apply_power_event(self, uuid):
        if self.store.get(uuid) is not None:
            self._sync_one(uuid)

    def _sync_one(self, uuid):
        """Re-read one guest's power state outside any operation.

        A change seen here was not made by the agent (an operation holds
        the lock and records its own result first), so controllers are
        told with ``instance.power_state.update``: the record, plus
        ``old_state``.
        """
        with self.locks.lock(uuid):
            record = self.store.get(uuid)
            if record is None:
                return
            updated = self.runner.refresh_state(record)
            stored = self.store.get_stored(uuid)
            if updated.state == states.SHUTOFF and stored.detaching:
                updated = disk_operations.finish_detaches(
                    self.driver, self.store, stored).record
        self.runner.notify_change(record, updated)

    def sync_power_states(self, powers=None):
        """Align every record with the hypervisor in one driver call.

        :param powers: what the driver's list_power_states just said, if
            the caller asked already
        """
        if powers is None:
            powers = self.driver.list_power_states()
        for record in self.store.list():
            if record.state in (states.BUILDING, states.ERROR):
                continue
            if powers.get(record.uuid) != record.state:
                self._sync_one(record.uuid)
