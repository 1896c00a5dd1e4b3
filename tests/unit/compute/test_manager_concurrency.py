"""Tests of concurrent requests to the compute parts (computeagent.compute).

Threads stand in for the RPC server's workers. Nothing sleeps: a build is
held inside the fake driver's spawn by an Event, and conditions say when
every thread has reached the point the test needs.
"""

import os
import threading

import fixtures

from computeagent import exception
from computeagent_fake import driver as fake_driver
from tests.unit import agentfixtures


class ConcurrencyTestCase(agentfixtures.ManagerTestCase):

    def setUp(self):
        super().setUp()
        self.gates = []
        self.threads = []
        self.addCleanup(self.finish_threads)

    def finish_threads(self):
        """No thread of a test may outlive it (and its temp dir)."""
        for gate in self.gates:
            gate.set()
        for thread in self.threads:
            thread.join(agentfixtures.WAIT)

    def run_threads(self, func, args_list):
        results = [None] * len(args_list)

        def run(index, args):
            try:
                results[index] = func(*args)
            except Exception as error:
                results[index] = error
        threads = [threading.Thread(target=run, args=(i, a))
                   for i, a in enumerate(args_list)]
        self.threads.extend(threads)
        for thread in threads:
            thread.start()
        return threads, results

    def in_thread(self, method, **kwargs):
        """Call ``method`` on a thread of its own: (threads, results)."""
        return self.run_threads(lambda: self.call(method, **kwargs), [()])

    def join(self, threads):
        for thread in threads:
            thread.join(agentfixtures.WAIT)
            self.assertFalse(thread.is_alive())

    def blocked_spawns(self):
        """Make spawn wait for ``gate``; count those inside it."""
        state = {'inside': 0, 'most': 0}
        cond = threading.Condition()
        gate = threading.Event()
        self.gates.append(gate)
        real_spawn = self.driver.spawn

        def spawn(spec, timings=None):
            with cond:
                state['inside'] += 1
                state['most'] = max(state['most'], state['inside'])
                cond.notify_all()
            try:
                self.assertTrue(gate.wait(agentfixtures.WAIT))
                return real_spawn(spec, timings)
            finally:
                with cond:
                    state['inside'] -= 1
        self.useFixture(fixtures.MockPatchObject(self.driver, 'spawn',
                                                 side_effect=spawn))
        return state, cond, gate

    def waiting_for_slots(self):
        """Count creates waiting for a build slot."""
        slots = self.manager.locks.build_slots
        waiting = {'count': 0}
        cond = threading.Condition()

        class Slots(object):
            def acquire(self, *args, **kwargs):
                with cond:
                    waiting['count'] += 1
                    cond.notify_all()
                try:
                    return slots.acquire(*args, **kwargs)
                finally:
                    with cond:
                        waiting['count'] -= 1

            def release(self):
                return slots.release()
        self.manager.locks.build_slots = Slots()
        return waiting, cond


class TestConcurrency(ConcurrencyTestCase):

    def test_concurrent_creates_of_different_uuids(self):
        uuids = [agentfixtures.new_uuid() for _ in range(12)]
        threads, results = self.run_threads(
            lambda uuid: self.create(uuid), [(u,) for u in uuids])
        self.join(threads)
        self.assertEqual(uuids, [r['uuid'] for r in results])
        self.assertEqual(['running'] * 12, [r['state'] for r in results])
        self.assertEqual(set(uuids), self.store.uuids())
        self.assertEqual(set(uuids), set(self.driver.list_power_states()))

    def test_concurrent_creates_of_one_spec_make_one_instance(self):
        spec = agentfixtures.make_spec()
        threads, results = self.run_threads(
            lambda: self.call('create_instance', spec=spec), [()] * 6)
        self.join(threads)
        self.assertEqual([results[0]] * 6, results)
        self.assertEqual([spec['uuid']], list(self.store.uuids()))

    def test_max_concurrent_builds(self):
        self.flags(max_concurrent_builds=2)
        self.rebuild_manager()
        spawns, spawn_cond, gate = self.blocked_spawns()
        waiting, wait_cond = self.waiting_for_slots()
        threads, results = self.run_threads(
            lambda: self.create(), [()] * 5)
        # Two builds run, the other three wait for a slot: only then is
        # it certain a third could have started if nothing stopped it.
        with spawn_cond:
            self.assertTrue(spawn_cond.wait_for(
                lambda: spawns['inside'] == 2, agentfixtures.WAIT))
        with wait_cond:
            self.assertTrue(wait_cond.wait_for(
                lambda: waiting['count'] == 3, agentfixtures.WAIT))
        self.assertEqual(2, spawns['inside'])
        gate.set()
        self.join(threads)
        self.assertEqual(2, spawns['most'])
        self.assertEqual(['running'] * 5, [r['state'] for r in results])

    def test_resources_are_claimed_before_waiting_for_a_slot(self):
        # Room for two instances; one build at a time.
        self.flags(max_concurrent_builds=1,
                   reserved_host_memory_mb=fake_driver.FAKE_MEMORY_MB - 256)
        self.rebuild_manager()
        spawns, spawn_cond, gate = self.blocked_spawns()
        waiting, wait_cond = self.waiting_for_slots()
        first, second, third = (agentfixtures.new_uuid() for _ in range(3))
        threads, results = self.run_threads(
            lambda uuid: self.create(uuid, memory_mb=128), [(first,)])
        with spawn_cond:
            self.assertTrue(spawn_cond.wait_for(
                lambda: spawns['inside'] == 1, agentfixtures.WAIT))
        more, more_results = self.run_threads(
            lambda uuid: self.create(uuid, memory_mb=128), [(second,)])
        with wait_cond:
            self.assertTrue(wait_cond.wait_for(
                lambda: waiting['count'] == 1, agentfixtures.WAIT))
        # The queued create is visible and holds its memory...
        self.assertEqual('building',
                         self.call('get_instance', uuid=second)['state'])
        # ...so a third that does not fit is refused at once.
        self.assertRaises(exception.InsufficientResources, self.create,
                          third, memory_mb=128)
        gate.set()
        self.join(threads + more)
        self.assertEqual('running', results[0]['state'])
        self.assertEqual('running', more_results[0]['state'])
        self.assertEqual({first, second}, self.store.uuids())


class TestQueuedBuilds(ConcurrencyTestCase):
    """A create waiting for a build slot does not hold its instance."""

    def setUp(self):
        super().setUp()
        self.flags(max_concurrent_builds=1)
        self.rebuild_manager()
        self.spawns, self.spawn_cond, self.gate = self.blocked_spawns()
        self.waiting, self.wait_cond = self.waiting_for_slots()
        # The one slot is taken by a build held inside spawn.
        self.first, self.first_results = self.run_threads(
            lambda: self.create(), [()])
        with self.spawn_cond:
            self.assertTrue(self.spawn_cond.wait_for(
                lambda: self.spawns['inside'] == 1, agentfixtures.WAIT))

    def queue(self, spec):
        """Send a create of ``spec`` that waits for the slot."""
        threads, results = self.in_thread('create_instance', spec=spec)
        with self.wait_cond:
            self.assertTrue(self.wait_cond.wait_for(
                lambda: self.waiting['count'] >= 1, agentfixtures.WAIT))
        return threads, results

    def finish(self, *threads):
        self.gate.set()
        self.join(self.first + list(threads))
        self.assertEqual('running', self.first_results[0]['state'])

    def test_a_queued_create_is_deleted_at_once(self):
        spec = agentfixtures.make_spec()
        uuid = spec['uuid']
        queued, results = self.queue(spec)
        deleted, deleted_results = self.in_thread('delete_instance',
                                                  uuid=uuid)
        # Before any build may go on: the delete does not wait for them.
        self.join(deleted)
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         deleted_results[0])
        self.assertRaises(exception.InstanceNotFound, self.call,
                          'get_instance', uuid=uuid)
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.finish(*queued)
        # Its build ended without making anything, and says so.
        self.assertIsInstance(results[0], exception.InstanceNotFound)
        self.assertIn('deleted before it was built', str(results[0]))
        self.assertNotIn(uuid, self.driver.list_power_states())
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.assertEqual([self.first_results[0]['uuid']],
                         list(self.store.uuids()))
        error, = [p for p in self.notifications.payloads(
            'instance.create.error') if p['uuid'] == uuid]
        self.assertEqual(('deleted', 'InstanceNotFound'),
                         (error['state'], error['error_type']))

    def test_other_operations_on_a_queued_create_are_refused(self):
        spec = agentfixtures.make_spec()
        queued, results = self.queue(spec)
        for method in ('stop_instance', 'reboot_instance',
                       'pause_instance'):
            error = self.assertRaises(exception.InvalidState, self.call,
                                      method, uuid=spec['uuid'])
            self.assertIn('building', str(error))
        self.finish(*queued)
        self.assertEqual('running', results[0]['state'])

    def test_the_same_create_again_waits_for_the_build(self):
        spec = agentfixtures.make_spec()
        queued, results = self.queue(spec)
        again, again_results = self.in_thread('create_instance', spec=spec)
        # A different spec for that uuid is refused at once.
        self.assertRaises(exception.InstanceExists, self.call,
                          'create_instance',
                          spec=dict(spec, name='another'))
        self.finish(*(queued + again))
        self.assertEqual('running', results[0]['state'])
        self.assertEqual(results, again_results)
        self.assertEqual(2, len(self.driver.list_power_states()))

    def test_a_create_sent_again_after_a_delete_builds_anew(self):
        spec = agentfixtures.make_spec()
        uuid = spec['uuid']
        queued, results = self.queue(spec)
        again, again_results = self.in_thread('create_instance', spec=spec)
        self.call('delete_instance', uuid=uuid)
        self.finish(*(queued + again))
        # The first was deleted before it was built; the second, sent
        # after it, was built once the first had ended.
        self.assertIsInstance(results[0], exception.InstanceNotFound)
        self.assertEqual('running', again_results[0]['state'])
        self.assertEqual('running', self.driver.get_power_state(
            agentfixtures.instance_of(uuid)))
        self.assertEqual(again_results[0],
                         self.call('get_instance', uuid=uuid))


class TestPrepare(ConcurrencyTestCase):
    """The driver's prepare (image fetches) runs without the lock."""

    def test_a_delete_does_not_wait_for_prepare(self):
        prepares = self.useFixture(agentfixtures.HeldCalls(self.driver,
                                                           'prepare'))
        spawns = self.useFixture(agentfixtures.HeldCalls(self.driver,
                                                         'spawn'))
        spec = agentfixtures.make_spec()
        uuid = spec['uuid']
        created, results = self.in_thread('create_instance', spec=spec)
        prepares.wait_entered()
        deleted, deleted_results = self.in_thread('delete_instance',
                                                  uuid=uuid)
        self.join(deleted)
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         deleted_results[0])
        prepares.gate.set()
        spawns.gate.set()
        self.join(created)
        self.assertIsInstance(results[0], exception.InstanceNotFound)
        self.assertEqual(0, self.driver.spawn.call_count)
        self.assertEqual(set(), self.store.uuids())
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))

    def test_a_failed_prepare_is_rolled_back(self):
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'prepare', side_effect=exception.ImageNotFound(
                image='gone.qcow2', reason='not in the directory')))
        spawn = self.useFixture(fixtures.MockPatchObject(self.driver,
                                                         'spawn')).mock
        spec = agentfixtures.make_spec()
        self.assertRaises(exception.ImageNotFound, self.call,
                          'create_instance', spec=spec)
        spawn.assert_not_called()
        self.assertEqual(set(), self.store.uuids())
        self.assertFalse(os.path.exists(self.instance_dir(spec['uuid'])))
        error, = self.notifications.payloads('instance.create.error')
        self.assertEqual(('error', 'ImageNotFound'),
                         (error['state'], error['error_type']))


class TestImageCacheSweep(ConcurrencyTestCase):

    def test_the_sweep_waits_for_the_builds(self):
        self.flags(max_concurrent_builds=2)
        self.rebuild_manager()
        spawns, spawn_cond, gate = self.blocked_spawns()
        order = []
        real_spawn = self.driver.spawn

        def spawn(spec, timings=None):
            try:
                return real_spawn(spec, timings)
            finally:
                order.append('spawned')
        self.useFixture(fixtures.MockPatchObject(self.driver, 'spawn',
                                                 side_effect=spawn))
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'cleanup_image_cache',
            side_effect=lambda records: order.append('swept') or ['k']))
        builds, results = self.run_threads(lambda: self.create(), [()])
        with spawn_cond:
            self.assertTrue(spawn_cond.wait_for(
                lambda: spawns['inside'] == 1, agentfixtures.WAIT))
        waiting, wait_cond = self.waiting_for_slots()
        sweeps, swept = self.run_threads(self.manager.cache_sweep.sweep,
                                         [()])
        # It took the free slot and waits for the one the build holds.
        with wait_cond:
            self.assertTrue(wait_cond.wait_for(
                lambda: waiting['count'] == 1, agentfixtures.WAIT))
        gate.set()
        self.join(builds + sweeps)
        self.assertEqual(['spawned', 'swept'], order)
        self.assertEqual(['k'], swept[0])
        self.assertEqual('running', results[0]['state'])
        # Every slot is free again.
        self.assertEqual(['k'], self.manager.cache_sweep.sweep(timeout=0))

    def test_a_sweep_gives_up_while_builds_run(self):
        spawns, spawn_cond, gate = self.blocked_spawns()
        self.flags(max_concurrent_builds=1)
        self.rebuild_manager()
        cleanup = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'cleanup_image_cache')).mock
        builds, results = self.run_threads(lambda: self.create(), [()])
        with spawn_cond:
            self.assertTrue(spawn_cond.wait_for(
                lambda: spawns['inside'] == 1, agentfixtures.WAIT))
        self.assertEqual([], self.manager.cache_sweep.sweep(timeout=0))
        cleanup.assert_not_called()
        gate.set()
        self.join(builds)
