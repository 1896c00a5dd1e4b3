"""Tests of instance states: power operations, power events and syncs."""

import os
import threading

import fixtures

from computeagent.compute import states
from computeagent import exception
from tests.unit import agentfixtures

# Three disks so every disk operation has something to work on: a snapshot
# disk to commit, a second disk to detach, a cdrom to change.
DISKS = [{'source': {'image': 'cirros.qcow2'}, 'snapshot': True},
         {'source': {'blank': True}, 'size_mb': 8},
         {'source': {'blank': True}, 'device': 'cdrom'}]

# Every operation of states.ALLOWED: the call, and the state it leaves
# (None: the state it found).
OPERATIONS = {
    'delete': ('delete_instance', {}, 'deleted'),
    'reboot': ('reboot_instance', {}, 'running'),
    'reboot_hard': ('reboot_instance', {'hard': True}, 'running'),
    'stop': ('stop_instance', {'timeout': 0}, 'shutoff'),
    'start': ('start_instance', {}, 'running'),
    'pause': ('pause_instance', {}, 'paused'),
    'unpause': ('unpause_instance', {}, 'running'),
    'suspend': ('suspend_instance', {}, 'suspended'),
    'resume': ('resume_instance', {}, 'running'),
    'attach_disk': ('attach_disk', {'disk': {'source': {'blank': True},
                                             'size_mb': 1}}, None),
    'detach_disk': ('detach_disk', {'target': 'vdb'}, None),
    'change_media': ('change_media', {'target': 'sda', 'image': 'x.iso'},
                     None),
    'commit_disk': ('commit_disk', {'target': 'vda'}, None),
    'set_boot_order': ('set_boot_order', {'boot_order': ['vdb', 'vda']},
                       None),
}


class StatesTestCase(agentfixtures.ManagerTestCase):

    def into(self, state):
        """A new instance in ``state``, its guest agreeing where it can.

        ``error`` and ``building`` are states of the record only; the
        guest keeps running, as after an agent restart mid-build or a
        hypervisor that lost sight of the guest for a moment.
        """
        uuid = self.create(disks=DISKS)['uuid']
        if state == 'paused':
            self.call('pause_instance', uuid=uuid)
        elif state == 'suspended':
            self.call('suspend_instance', uuid=uuid)
        elif state == 'shutoff':
            self.call('stop_instance', uuid=uuid)
        elif state == 'crashed':
            agentfixtures.set_guest_state(self.driver, uuid, 'crashed')
            self.manager.power_sync.sync_power_states()
        elif state in ('error', 'building'):
            self.store.update(uuid, state=state,
                              error='lost' if state == 'error' else None)
        self.assertEqual(state, self.store.get(uuid).state)
        return uuid

    def guest_state(self, uuid):
        return self.driver.list_power_states().get(uuid)


class TestAllowedStates(StatesTestCase):

    def test_every_operation_is_tested(self):
        # A live migration needs a second host: its states are tested by
        # tests/unit/api/test_migration.py (TestStates); a serial
        # console's answer is no record: tests/unit/compute/
        # test_consoles.py (TestStates).
        self.assertEqual(set(states.ALLOWED) - {'live_migrate',
                                                'get_serial_console'},
                         set(OPERATIONS))

    def test_operations_in_every_state(self):
        wrong = []
        for operation, (method, kwargs, after) in sorted(OPERATIONS.items()):
            for state in states.ALL:
                uuid = self.into(state)
                before = self.store.get(uuid)
                guest = self.guest_state(uuid)
                try:
                    result = self.call(method, uuid=uuid, **kwargs)
                except exception.InvalidState as e:
                    if state in states.ALLOWED[operation]:
                        wrong.append('%s refused in %s' % (operation, state))
                    elif (self.store.get(uuid) != before or
                          self.guest_state(uuid) != guest or
                          str(e) != 'Cannot %s instance %s while it is %s.'
                          % (operation.replace('_', ' '), uuid, state)):
                        wrong.append('%s in %s changed something: %s'
                                     % (operation, state, e))
                    continue
                if state not in states.ALLOWED[operation]:
                    wrong.append('%s allowed in %s' % (operation, state))
                    continue
                expected = after or state
                if operation == 'delete':
                    actual = ('deleted' if self.store.get(uuid) is None
                              else 'kept')
                else:
                    actual = result['state']
                    if result != self.store.get(uuid).to_dict():
                        wrong.append('%s in %s: stale record'
                                     % (operation, state))
                if actual != expected:
                    wrong.append('%s in %s left %s, not %s'
                                 % (operation, state, actual, expected))
        self.assertEqual([], wrong)

    def test_soft_reboot_needs_a_running_guest(self):
        uuid = self.into('shutoff')
        error = self.assertRaises(exception.InvalidState, self.call,
                                  'reboot_instance', uuid=uuid)
        self.assertEqual('Cannot reboot instance %s while it is shutoff.'
                         % uuid, str(error))

    def test_hard_reboot_from_shutoff(self):
        uuid = self.into('shutoff')
        record = self.call('reboot_instance', uuid=uuid, hard=True)
        self.assertEqual('running', record['state'])
        self.assertEqual('running', self.guest_state(uuid))
        with open(record['console_log']) as f:
            self.assertIn('rebooting (hard)', f.read())

    def test_a_hard_reboot_clears_the_error_state(self):
        uuid = self.into('error')
        record = self.call('reboot_instance', uuid=uuid, hard=True)
        self.assertEqual('running', record['state'])
        self.assertIsNone(record['error'])
        self.assertEqual(record, self.call('get_instance', uuid=uuid))
        self.assertEqual('paused', self.call('pause_instance',
                                             uuid=uuid)['state'])

    def test_stop_and_start_round_trip(self):
        uuid = self.into('running')
        self.assertEqual('shutoff', self.call('stop_instance', uuid=uuid,
                                              timeout=3600)['state'])
        self.assertEqual('running', self.call('start_instance',
                                              uuid=uuid)['state'])

    def test_argument_checks(self):
        uuid = self.into('running')
        for hard in ('yes', 1, None):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'reboot_instance', uuid=uuid,
                                      hard=hard)
            self.assertEqual('hard', error.field)
        for timeout in (-1, 3601, 'soon', 1.5, None):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'stop_instance', uuid=uuid,
                                      timeout=timeout)
            self.assertEqual('timeout', error.field)
        self.assertEqual('running', self.guest_state(uuid))


class TestDriverFailures(StatesTestCase):

    def test_a_vanished_guest_puts_the_record_in_error(self):
        uuid = self.into('running')
        agentfixtures.set_guest_state(self.driver, uuid, None)
        self.assertRaises(exception.InvalidState, self.call,
                          'pause_instance', uuid=uuid)
        record = self.call('get_instance', uuid=uuid)
        self.assertEqual('error', record['state'])
        self.assertIn('gone', record['error'])
        # The hypervisor refuses to reboot what it does not have.
        self.assertRaises(exception.DriverError, self.call,
                          'reboot_instance', uuid=uuid, hard=True)
        self.assertEqual('error', self.store.get(uuid).state)
        self.call('delete_instance', uuid=uuid)
        self.assertIsNone(self.store.get(uuid))

    def test_a_refusing_driver_keeps_the_state(self):
        uuid = self.into('running')
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'pause',
            side_effect=exception.DriverError(reason='qemu said no')))
        error = self.assertRaises(exception.DriverError, self.call,
                                  'pause_instance', uuid=uuid)
        self.assertIn('qemu said no', str(error))
        self.assertEqual('running', self.store.get(uuid).state)

    def test_unexpected_driver_errors_become_driver_errors(self):
        uuid = self.into('running')
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'suspend', side_effect=RuntimeError('kaput')))
        error = self.assertRaises(exception.DriverError, self.call,
                                  'suspend_instance', uuid=uuid)
        self.assertEqual('The hypervisor refused: RuntimeError: kaput',
                         str(error))
        self.assertEqual('running', self.store.get(uuid).state)


class TestPowerEvents(StatesTestCase):

    def setUp(self):
        super().setUp()
        self.applied = threading.Semaphore(0)
        power_sync = self.manager.power_sync
        real_apply = power_sync._apply_power_event

        def apply(uuid, state):
            try:
                real_apply(uuid, state)
            finally:
                self.applied.release()
        self.useFixture(fixtures.MockPatchObject(
            power_sync, '_apply_power_event', side_effect=apply))
        self.driver.register_event_listener(power_sync.handle_power_event)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=power_sync.process_events,
                                       args=(self.stop, 0.05))
        self.thread.start()
        self.addCleanup(self.thread.join, agentfixtures.WAIT)
        self.addCleanup(self.stop.set)

    def wait_applied(self, count=1):
        for _ in range(count):
            self.assertTrue(self.applied.acquire(timeout=agentfixtures.WAIT))

    def test_events_update_records(self):
        uuid = self.into('running')
        # behind the agent's back
        self.driver.pause(agentfixtures.instance_of(uuid))
        self.wait_applied()
        self.assertEqual('paused', self.store.get(uuid).state)
        agentfixtures.set_guest_state(self.driver, uuid, 'crashed',
                                      emit=True)
        self.wait_applied()
        self.assertEqual('crashed', self.store.get(uuid).state)
        agentfixtures.set_guest_state(self.driver, uuid, None, emit=True)
        self.wait_applied()
        self.assertEqual('error', self.store.get(uuid).state)

    def test_changes_the_agent_did_not_make_are_notified(self):
        uuid = self.into('running')
        # behind the agent's back
        self.driver.pause(agentfixtures.instance_of(uuid))
        self.wait_applied()
        update, = self.notifications.payloads('instance.power_state.update')
        self.assertEqual((uuid, 'paused', 'running'),
                         (update['uuid'], update['state'],
                          update['old_state']))

    def test_the_agents_own_operations_send_no_update(self):
        uuid = self.into('running')
        self.call('pause_instance', uuid=uuid)
        self.call('unpause_instance', uuid=uuid)
        self.wait_applied(count=2)  # each operation emitted an event
        self.assertEqual(
            [], self.notifications.payloads('instance.power_state.update'))

    def test_operations_emitting_events_do_not_deadlock(self):
        uuid = self.into('running')
        # The fake emits the event while the manager holds the lock.
        self.assertEqual('paused', self.call('pause_instance',
                                             uuid=uuid)['state'])
        self.wait_applied()
        self.assertEqual('paused', self.store.get(uuid).state)

    def test_events_of_unknown_guests_are_ignored(self):
        uuid = agentfixtures.new_uuid()
        self.driver.emit_event(uuid, 'running')
        self.wait_applied()
        self.assertIsNone(self.store.get(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))

    def test_an_event_the_record_already_says_asks_nothing(self):
        # A start's own STARTED, say: the hypervisor is not asked again.
        uuid = self.into('running')
        asked = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'get_power_state',
            side_effect=AssertionError('asked'))).mock
        self.driver.emit_event(uuid, 'running')
        self.wait_applied()
        asked.assert_not_called()
        self.assertEqual('running', self.store.get(uuid).state)

    def test_an_event_with_detaches_pending_is_always_looked_at(self):
        uuid = self.into('shutoff')
        self.store.update(uuid, detaching=('vdb',))
        asked = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'get_power_state', return_value='shutoff')).mock
        self.driver.emit_event(uuid, 'shutoff')
        self.wait_applied(count=2)  # the stop's own event, then this one
        asked.assert_called()

    def test_a_failing_event_does_not_stop_the_thread(self):
        uuid = self.into('running')
        with fixtures.MockPatchObject(
                self.driver, 'get_power_state',
                side_effect=RuntimeError('libvirt hiccup')):
            self.driver.emit_event(uuid, 'paused')
            self.wait_applied()
        self.driver.pause(agentfixtures.instance_of(uuid))
        self.wait_applied()
        self.assertEqual('paused', self.store.get(uuid).state)

    def test_the_thread_stops_when_asked(self):
        self.stop.set()
        self.thread.join(agentfixtures.WAIT)
        self.assertFalse(self.thread.is_alive())


class TestSyncPowerStates(StatesTestCase):

    def test_sync_aligns_records_with_the_hypervisor(self):
        same = self.into('running')
        crashed = self.into('running')
        stopped = self.into('paused')
        gone = self.into('running')
        building = self.into('building')
        error = self.into('error')
        agentfixtures.set_guest_state(self.driver, crashed, 'crashed')
        agentfixtures.set_guest_state(self.driver, stopped, 'shutoff')
        agentfixtures.set_guest_state(self.driver, gone, None)
        agentfixtures.set_guest_state(self.driver, building, 'paused')
        agentfixtures.set_guest_state(self.driver, error, 'paused')
        self.manager.power_sync.sync_power_states()
        self.assertEqual(
            ['running', 'crashed', 'shutoff', 'error', 'building', 'error'],
            [self.store.get(u).state
             for u in (same, crashed, stopped, gone, building, error)])
        self.assertIn('gone', self.store.get(gone).error)
        updates = {p['uuid']: (p['old_state'], p['state']) for p in
                   self.notifications.payloads('instance.power_state.update')}
        self.assertEqual({crashed: ('running', 'crashed'),
                          stopped: ('paused', 'shutoff'),
                          gone: ('running', 'error')}, updates)

    def test_sync_asks_the_hypervisor_once(self):
        for _ in range(3):
            self.into('running')
        listing = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'list_power_states',
            wraps=self.driver.list_power_states)).mock
        single = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'get_power_state',
            wraps=self.driver.get_power_state)).mock
        self.manager.power_sync.sync_power_states()
        self.assertEqual(1, listing.call_count)
        # Only records that disagree are looked at one by one.
        self.assertEqual(0, single.call_count)
