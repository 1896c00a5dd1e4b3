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

        :param state: the power state the event announces, or None if
            the hypervisor must be asked
        """
        self._events.put((uuid, state))

    def process_events(self, stop_event, poll=0.5):
        """Apply queued power events until ``stop_event`` is set."""
        while not stop_event.is_set():
            try:
                uuid, state = self._events.get(timeout=poll)
            except queue.Empty:
                continue
            try:
                self._apply_power_event(uuid, state)
            except Exception:
                LOG.exception('Could not apply a power event of %s', uuid)

    def _apply_power_event(self, uuid, state):
        if not self._agrees(self.store.get_stored(uuid), state):
            self._sync_one(uuid, state)

    @staticmethod
    def _agrees(stored, state):
        """Whether an event tells nothing the record does not say.

        Most events are the echo of an operation of the agent's own (a
        start's STARTED), which recorded its result already: asking the
        hypervisor again would cost two calls on the connection the
        operations wait on, for every start and stop. An event is a fact
        at its time and any later change brings an event of its own, so
        a record in the state its latest event announces is right. A
        removed record has nothing to sync, and a guest with detaches to
        finish is always looked at. A guest leaving in a live migration
        is the migration's to settle (it vanishes from here when it
        succeeds).
        """
        if stored is None or stored.migrating_to is not None:
            return True
        return (state is not None and stored.record.state == state
                and not stored.detaching)

    def _sync_one(self, uuid, state=None):
        """Re-read one guest's power state outside any operation.

        A change seen here was not made by the agent (an operation holds
        the lock and records its own result first), so controllers are
        told with ``instance.power_state.update``: the record, plus
        ``old_state``.

        :param state: what an event announced, if one is applied; an
            operation that held the lock may have recorded it meanwhile
        """
        with self.locks.lock(uuid):
            stored = self.store.get_stored(uuid)
            if self._agrees(stored, state):
                return
            record = stored.record
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
            if self._agrees(self.store.get_stored(record.uuid), None):
                continue  # gone, or migrating: not to wait for its lock
            if powers.get(record.uuid) != record.state:
                self._sync_one(record.uuid)
