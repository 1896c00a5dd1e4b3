"""StateWaiter: waits that libvirt's event thread can end early."""

import threading

from computeagent_libvirt import events
from tests import base
from tests.unit.drivers.libvirt import utils

UUID = utils.UUID
OTHER = '5d0c7a4e-8d4b-4a8e-9a57-1f3e1c2b7a60'


class TestStateWaiter(base.TestCase):

    def setUp(self):
        super().setUp()
        self.waiter = events.StateWaiter()

    def test_true_at_once(self):
        calls = []
        self.assertTrue(self.waiter.wait_for(
            lambda: calls.append(1) or True, 60, 60))
        self.assertEqual(1, len(calls))

    def test_timeout_zero_checks_once(self):
        calls = []
        self.assertFalse(self.waiter.wait_for(
            lambda: calls.append(1) and False, 0, 60))
        self.assertEqual(1, len(calls))

    def test_event_from_another_thread(self):
        done = threading.Event()

        def predicate():
            return done.is_set()

        def event_thread():
            done.set()
            self.waiter.notify(UUID)
        thread = threading.Thread(target=event_thread)
        thread.start()
        self.addCleanup(thread.join)
        self.assertTrue(self.waiter.wait_for(predicate, 60, 60))

    def test_device_removals_count_from_the_request(self):
        self.waiter.note_device_removed(UUID, 'virtio-disk1')
        # Seen before the request: an earlier device of that alias.
        self.waiter.expect_removal(UUID, 'virtio-disk1')
        self.assertFalse(self.waiter.device_removed(UUID, 'virtio-disk1'))
        self.waiter.note_device_removed(UUID, 'virtio-disk2')
        self.waiter.note_device_removed(OTHER, 'virtio-disk1')
        self.assertFalse(self.waiter.device_removed(UUID, 'virtio-disk1'))
        self.waiter.note_device_removed(UUID, 'virtio-disk1')
        self.assertTrue(self.waiter.device_removed(UUID, 'virtio-disk1'))
        self.waiter.forget(UUID)
        self.assertFalse(self.waiter.device_removed(UUID, 'virtio-disk1'))

    def test_a_device_removal_ends_a_wait(self):
        self.waiter.expect_removal(UUID, 'virtio-disk1')
        thread = threading.Thread(target=self.waiter.note_device_removed,
                                  args=(UUID, 'virtio-disk1'))
        thread.start()
        self.addCleanup(thread.join)
        self.assertTrue(self.waiter.wait_for(
            lambda: self.waiter.device_removed(UUID, 'virtio-disk1'),
            60, 60))

    def test_reboots_are_counted_per_guest(self):
        other = OTHER
        self.assertEqual(0, self.waiter.reboots(UUID))
        self.waiter.note_reboot(UUID)
        self.waiter.note_reboot(UUID)
        self.assertEqual(2, self.waiter.reboots(UUID))
        self.assertEqual(0, self.waiter.reboots(other))
        self.waiter.forget(UUID)
        self.assertEqual(0, self.waiter.reboots(UUID))
