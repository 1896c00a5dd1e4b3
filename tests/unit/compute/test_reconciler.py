"""Reconciliation passes (computeagent.compute.reconciler), fake driver."""

import os
import threading

import fixtures

from computeagent.compute import reconciler
from computeagent import exception
from tests.unit import agentfixtures


class ReconcilerTestCase(agentfixtures.ManagerTestCase):

    def setUp(self):
        super().setUp()
        self.reconciler = self.manager.reconciler

    def start_thread(self, interval=0):
        """Run passes on a thread as the service does; count them."""
        self.passes = threading.Semaphore(0)
        real = self.reconciler.reconcile

        def counted():
            try:
                real()
            finally:
                self.passes.release()
        self.useFixture(fixtures.MockPatchObject(
            self.reconciler, 'reconcile', side_effect=counted))
        stop = threading.Event()
        thread = threading.Thread(target=self.reconciler.run,
                                  args=(stop, interval))
        thread.start()
        self.addCleanup(thread.join, agentfixtures.WAIT)
        self.addCleanup(self.reconciler.wake)
        self.addCleanup(stop.set)

    def wait_for_pass(self):
        self.assertTrue(self.passes.acquire(timeout=agentfixtures.WAIT))


class TestPasses(ReconcilerTestCase):

    def test_a_resync_looks_at_every_instance(self):
        # What a driver does after its hypervisor connection came back:
        # changes made meanwhile sent no event.
        self.start_thread()
        self.driver.register_resync_listener(self.reconciler.request)
        paused, gone, same = (self.create()['uuid'] for _ in range(3))
        agentfixtures.set_guest_state(self.driver, paused, 'paused')
        agentfixtures.set_guest_state(self.driver, gone, None)
        self.driver.emit_resync()
        self.wait_for_pass()
        self.assertEqual(['paused', 'error', 'running'],
                         [self.store.get(u).state
                          for u in (paused, gone, same)])
        self.assertEqual(
            {paused, gone},
            {p['uuid'] for p in self.notifications.payloads(
                'instance.power_state.update')})

    def test_periodic_passes(self):
        self.start_thread(interval=0.05)
        self.wait_for_pass()
        self.wait_for_pass()

    def test_no_pass_without_a_request_when_the_interval_is_zero(self):
        self.start_thread(interval=0)
        self.assertFalse(self.passes.acquire(timeout=0.2))
        self.reconciler.request()
        self.wait_for_pass()

    def test_a_failing_pass_does_not_stop_the_thread(self):
        self.start_thread()
        with fixtures.MockPatchObject(
                self.driver, 'list_power_states',
                side_effect=exception.DriverError(reason='unreachable')):
            self.reconciler.request()
            self.wait_for_pass()
        uuid = self.create()['uuid']
        agentfixtures.set_guest_state(self.driver, uuid, 'shutoff')
        self.reconciler.request()
        self.wait_for_pass()
        self.assertEqual('shutoff', self.store.get(uuid).state)


class TestTasks(ReconcilerTestCase):

    def broken_destroy(self):
        return self.useFixture(fixtures.MockPatchObject(
            self.driver, 'destroy',
            side_effect=exception.DriverError(reason='unreachable'))).mock

    def test_an_unfinished_delete_is_finished_and_notified(self):
        uuid = self.create()['uuid']
        destroy = self.broken_destroy()
        self.assertRaises(exception.DriverError, self.call,
                          'delete_instance', uuid=uuid)
        self.reconciler.reconcile()  # still unreachable: kept
        self.assertEqual(reconciler.DELETING,
                         self.store.get_stored(uuid).task)
        self.assertEqual([], self.notifications.payloads(
            'instance.delete.end'))
        destroy.side_effect = None
        self.reconciler.reconcile()
        self.assertIsNone(self.store.get(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        end, = self.notifications.payloads('instance.delete.end')
        self.assertEqual((uuid, 'deleted'), (end['uuid'], end['state']))

    def test_an_unfinished_rollback_is_finished_silently(self):
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'spawn',
            side_effect=exception.DriverError(reason='spawn')))
        destroy = self.broken_destroy()
        uuid = agentfixtures.new_uuid()
        self.assertRaises(exception.DriverError, self.create, uuid)
        self.assertEqual(reconciler.ROLLING_BACK,
                         self.store.get_stored(uuid).task)
        destroy.side_effect = None
        self.reconciler.reconcile()
        self.assertIsNone(self.store.get(uuid))
        # Its create.error was the outcome; nothing more is said.
        self.assertEqual(1, len(self.notifications.payloads(
            'instance.create.error')))
        self.assertEqual([], self.notifications.payloads(
            'instance.delete.end'))


class TestOrphans(ReconcilerTestCase):

    def test_the_drivers_own_guest_without_a_record_goes(self):
        uuid = self.create()['uuid']
        self.store.delete(uuid)  # what a lost record leaves
        self.reconciler.reconcile()
        self.assertEqual({}, self.driver.list_power_states())
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))

    def test_a_foreign_guest_is_never_touched(self):
        uuid = agentfixtures.new_uuid()
        self.driver.add_foreign_guest(uuid)
        cleanup = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'cleanup_orphan',
            wraps=self.driver.cleanup_orphan)).mock
        for _ in range(3):
            self.reconciler.reconcile()
        self.assertEqual({uuid: 'running'}, self.driver.list_power_states())
        # Asked once; not again while it stays.
        self.assertEqual(1, cleanup.call_count)

    def test_a_create_accepted_meanwhile_is_not_an_orphan(self):
        uuid = self.create()['uuid']
        # The pass saw the guest before the record was there; under the
        # lock the record is found.
        self.useFixture(fixtures.MockPatchObject(
            self.reconciler, 'orphans', return_value={uuid}))
        self.reconciler.remove_orphans()
        self.assertEqual('running', self.store.get(uuid).state)
        self.assertIn(uuid, self.driver.list_power_states())
