"""The per-instance lock: one operation at a time on each instance.

Each test holds one operation inside the fake driver and starts another.
The lock's semaphores are observed: a semaphore asked for while another
thread holds it reports the wait. So the test knows, without sleeping,
whether the second operation is waiting for the lock or has gone on into
the driver: one of the two always happens. Without the lock, or with a
lock of its own for each operation, the second operation goes on into
the driver and the test fails.
"""

import threading

import fixtures
from oslo_concurrency import lockutils

from computeagent.compute import locks
from computeagent import exception
from tests.unit import agentfixtures
from tests.unit.compute import test_manager_concurrency


class _ObservedSemaphore(threading.Semaphore):
    """A semaphore that reports a thread about to wait for it."""

    def __init__(self, name, on_wait):
        super().__init__()
        self.name = name
        self.on_wait = on_wait

    def acquire(self, blocking=True, timeout=None):
        if super().acquire(blocking=False):
            return True
        if not blocking:
            return False
        self.on_wait(self.name)
        return super().acquire(timeout=timeout)

    # threading.Semaphore binds __enter__ to its own acquire.
    __enter__ = acquire


class ObservedSemaphores(lockutils.Semaphores):
    """lockutils' semaphore container, with semaphores that report waits."""

    def __init__(self, on_wait):
        super().__init__()
        self.on_wait = on_wait

    def get(self, name):
        with self._lock:
            semaphore = self._semaphores.get(name)
            if semaphore is None:
                semaphore = _ObservedSemaphore(name, self.on_wait)
                self._semaphores[name] = semaphore
            return semaphore


class LockingTestCase(test_manager_concurrency.ConcurrencyTestCase):

    def setUp(self):
        super().setUp()
        self.cond = threading.Condition()
        # ('wait', lock name) and ('enter' | 'exit', driver method, uuid)
        self.log = []
        self.rebuild_manager(locks=locks.InstanceLocks(
            locks.build_slots(self.conf),
            semaphores=ObservedSemaphores(self.waited)))

    def note(self, *event):
        with self.cond:
            self.log.append(event)
            self.cond.notify_all()

    def waited(self, name):
        self.note('wait', name)

    def watch(self, name, gate=None):
        """Log calls of the driver's ``name``; hold them until ``gate``."""
        real = getattr(self.driver, name)

        def call(record, *args, **kwargs):
            self.note('enter', name, record.uuid)
            try:
                if gate is not None:
                    self.assertTrue(gate.wait(agentfixtures.WAIT))
                return real(record, *args, **kwargs)
            finally:
                self.note('exit', name, record.uuid)
        self.useFixture(fixtures.MockPatchObject(self.driver, name,
                                                 side_effect=call))

    def hold(self, name):
        """Hold calls of the driver's ``name`` until the gate is set."""
        gate = threading.Event()
        self.gates.append(gate)
        self.watch(name, gate)
        return gate

    def wait_for(self, predicate):
        with self.cond:
            self.assertTrue(self.cond.wait_for(
                lambda: predicate(self.log), agentfixtures.WAIT),
                self.log)

    def wait_entered(self, name, uuid):
        self.wait_for(lambda log: ('enter', name, uuid) in log)

    def waits(self):
        with self.cond:
            return [event[1] for event in self.log if event[0] == 'wait']

    def assertWaitsForTheLock(self, uuid, name):
        """The operation just sent on ``uuid`` waits for the instance.

        It either waits for the instance's lock or goes on into the
        driver's ``name``; whichever it does first tells.
        """
        lock = 'instance-%s' % uuid
        self.wait_for(lambda log: ('wait', lock) in log or
                      ('enter', name, uuid) in log)
        self.assertEqual([lock], self.waits())
        with self.cond:
            self.assertNotIn(('enter', name, uuid), self.log)


class TestOperationsOfOneInstance(LockingTestCase):

    def test_a_second_operation_waits_for_the_first(self):
        uuid = self.create()['uuid']
        gate = self.hold('power_off')
        self.watch('pause')
        stopping, stopped = self.in_thread('stop_instance', uuid=uuid,
                                           timeout=0)
        self.wait_entered('power_off', uuid)
        pausing, paused = self.in_thread('pause_instance', uuid=uuid)
        self.assertWaitsForTheLock(uuid, 'pause')
        gate.set()
        self.join(stopping + pausing)
        self.assertEqual('shutoff', stopped[0]['state'])
        # It went on once the stop was done, and found the guest stopped.
        self.assertIsInstance(paused[0], exception.InvalidState)
        self.assertIn('shutoff', str(paused[0]))
        self.assertNotIn(('enter', 'pause', uuid), self.log)
        self.assertEqual('shutoff', self.store.get(uuid).state)

    def test_an_operation_on_another_instance_does_not_wait(self):
        held, other = self.create()['uuid'], self.create()['uuid']
        gate = self.hold('power_off')
        stopping, stopped = self.in_thread('stop_instance', uuid=held,
                                           timeout=0)
        self.wait_entered('power_off', held)
        pausing, paused = self.in_thread('pause_instance', uuid=other)
        # Done while the stop is still held in the driver.
        self.join(pausing)
        self.assertEqual('paused', paused[0]['state'])
        self.assertEqual([], self.waits())
        with self.cond:
            self.assertNotIn(('exit', 'power_off', held), self.log)
        gate.set()
        self.join(stopping)
        self.assertEqual('shutoff', stopped[0]['state'])

    def test_a_delete_during_a_spawn_waits_for_the_spawn(self):
        gate = self.hold('spawn')
        self.watch('destroy')
        spec = agentfixtures.make_spec()
        uuid = spec['uuid']
        creating, created = self.in_thread('create_instance', spec=spec)
        self.wait_entered('spawn', uuid)
        deleting, deleted = self.in_thread('delete_instance', uuid=uuid)
        self.assertWaitsForTheLock(uuid, 'destroy')
        gate.set()
        self.join(creating + deleting)
        self.assertEqual('running', created[0]['state'])
        self.assertEqual({'uuid': uuid, 'deleted': True}, deleted[0])
        # The guest was spawned whole, then destroyed.
        self.assertEqual([('enter', 'spawn', uuid), ('exit', 'spawn', uuid),
                          ('enter', 'destroy', uuid),
                          ('exit', 'destroy', uuid)],
                         [e for e in self.log if e[0] != 'wait'])
        self.assertIsNone(self.store.get(uuid))
        self.assertNotIn(uuid, self.driver.list_power_states())


class TestBuildSlots(test_manager_concurrency.ConcurrencyTestCase):

    def test_unset_it_is_twice_the_cpus_the_agent_may_use(self):
        for cpus, slots in (({0}, 2), ({0, 1}, 4), (set(range(16)), 32)):
            with fixtures.MockPatch('os.sched_getaffinity',
                                    return_value=cpus):
                self.assertEqual(slots, locks.build_slots(self.conf))

    def test_a_configured_number_is_kept(self):
        self.flags(max_concurrent_builds=3)
        with fixtures.MockPatch('os.sched_getaffinity',
                                return_value=set(range(16))):
            self.assertEqual(3, locks.build_slots(self.conf))

    def test_the_manager_builds_that_many_at_once(self):
        with fixtures.MockPatch('os.sched_getaffinity',
                                return_value={0, 1, 2}):
            self.rebuild_manager()
        self.assertEqual(6, self.manager.locks.max_builds)
