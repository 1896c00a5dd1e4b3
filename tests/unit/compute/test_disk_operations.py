"""Tests of disk operations and the console of the manager."""

import os

import fixtures

from computeagent import exception
from tests.unit import agentfixtures

BLANK = {'source': {'blank': True}, 'size_mb': 8}


class DiskTestCase(agentfixtures.ManagerTestCase):

    def targets(self, uuid):
        record = self.call('get_instance', uuid=uuid)
        spec = self.store.get_stored(uuid).spec
        self.assertEqual([d['target'] for d in record['disks']],
                         [d.target for d in spec.disks])
        return [d['target'] for d in record['disks']]


class TestAttachDisk(DiskTestCase):

    def test_targets_are_assigned_per_bus(self):
        uuid = self.create()['uuid']
        record = self.call('attach_disk', uuid=uuid, disk=BLANK)
        self.assertEqual(['vda', 'vdb'], [d['target']
                                          for d in record['disks']])
        new = record['disks'][1]
        self.assertEqual(os.path.join(self.instance_dir(uuid), 'disk.vdb'),
                         new['path'])
        self.assertEqual(('disk', 'virtio', 'qcow2'),
                         (new['device'], new['bus'], new['format']))
        self.call('attach_disk', uuid=uuid, disk=dict(BLANK, bus='sata'))
        self.call('attach_disk', uuid=uuid, disk=dict(BLANK, bus='scsi'))
        self.call('attach_disk', uuid=uuid,
                  disk={'source': {'image': 'x.iso'}, 'device': 'cdrom',
                        'bus': 'ide'})
        self.call('attach_disk', uuid=uuid, disk=BLANK)
        self.assertEqual(['vda', 'vdb', 'sda', 'sdb', 'hda', 'vdc'],
                         self.targets(uuid))

    def test_a_given_target(self):
        uuid = self.create()['uuid']
        self.call('attach_disk', uuid=uuid, disk=dict(BLANK, target='vdf'))
        self.assertEqual(['vda', 'vdf'], self.targets(uuid))
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'attach_disk', uuid=uuid,
                                  disk=dict(BLANK, target='vdf'))
        self.assertEqual('disk.target', error.field)

    def test_the_spec_and_record_are_kept(self):
        uuid = self.create()['uuid']
        self.call('attach_disk', uuid=uuid,
                  disk=dict(BLANK, boot_index=2, cache='writeback'))
        disk = self.store.get_stored(uuid).spec.disks[1]
        self.assertEqual((8, 2, 'writeback'),
                         (disk.size_mb, disk.boot_index, disk.cache))
        restarted = agentfixtures.build_endpoint(self.conf, self.driver)
        restarted.manager.store.load_all()
        self.assertEqual(['vda', 'vdb'], [
            d['target'] for d in self.call('get_instance', restarted,
                                           uuid=uuid)['disks']])

    def test_max_disks(self):
        self.flags(max_disks=3, group='disk')
        uuid = self.create()['uuid']
        self.call('attach_disk', uuid=uuid, disk=BLANK)
        self.call('attach_disk', uuid=uuid, disk=BLANK)
        before = self.call('get_instance', uuid=uuid)
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'attach_disk', uuid=uuid, disk=BLANK)
        self.assertEqual('disk', error.field)
        self.assertIn('max_disks', str(error))
        self.assertEqual(before, self.call('get_instance', uuid=uuid))

    def test_an_invalid_disk(self):
        uuid = self.create()['uuid']
        for disk, field in ((None, 'disk'),
                            ({'source': {'blank': True}}, 'disk.size_mb'),
                            (dict(BLANK, bus='usb'), 'disk.bus'),
                            (dict(BLANK, boot_index=0), 'disk.boot_index'),
                            (dict(BLANK, colour='red'), 'disk.colour')):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'attach_disk', uuid=uuid, disk=disk)
            self.assertEqual(field, error.field)
        self.assertEqual(['vda'], self.targets(uuid))

    def test_a_boot_index_in_use(self):
        uuid = self.create(disks=[{'source': {'image': 'a'},
                                   'boot_index': 1}],
                           nics=[{'boot_index': 2}])['uuid']
        for index in (1, 2):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'attach_disk', uuid=uuid,
                                      disk=dict(BLANK, boot_index=index))
            self.assertEqual('disk.boot_index', error.field)

    def test_a_driver_failure_keeps_the_disks(self):
        uuid = self.create()['uuid']
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'attach_disk',
            side_effect=exception.DriverError(reason='no slot')))
        self.assertRaises(exception.DriverError, self.call, 'attach_disk',
                          uuid=uuid, disk=BLANK)
        self.assertEqual(['vda'], self.targets(uuid))

    def test_a_record_that_cannot_be_saved_takes_the_disk_off(self):
        uuid = self.create()['uuid']
        before = self.call('get_instance', uuid=uuid)
        self.useFixture(fixtures.MockPatchObject(
            self.store, 'update',
            side_effect=OSError(28, 'No space left on device')))
        error = self.assertRaises(exception.DriverError, self.call,
                                  'attach_disk', uuid=uuid, disk=BLANK)
        self.assertIn('No space left on device', str(error))
        # The guest has no disk its record does not name.
        self.assertEqual(['vda'], [
            d.target for d in self.driver._guests[uuid]['disks']])
        self.assertEqual(before, self.call('get_instance', uuid=uuid))


class TestDetachDisk(DiskTestCase):

    def test_detach(self):
        uuid = self.create()['uuid']
        self.call('attach_disk', uuid=uuid, disk=BLANK)
        self.call('attach_disk', uuid=uuid, disk=BLANK)
        record = self.call('detach_disk', uuid=uuid, target='vdb')
        self.assertEqual(['vda', 'vdc'], [d['target']
                                          for d in record['disks']])
        self.assertEqual(['vda', 'vdc'], self.targets(uuid))
        # The freed target is the first free one again.
        self.call('attach_disk', uuid=uuid, disk=BLANK)
        self.assertEqual(['vda', 'vdc', 'vdb'], self.targets(uuid))

    def test_the_only_disk(self):
        uuid = self.create()['uuid']
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'detach_disk', uuid=uuid, target='vda')
        self.assertEqual('target', error.field)
        self.assertIn('only disk', str(error))
        self.assertEqual(['vda'], self.targets(uuid))

    def test_an_unknown_target(self):
        uuid = self.create()['uuid']
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'detach_disk', uuid=uuid, target='vdz')
        self.assertEqual('target', error.field)
        self.assertIn('has no disk vdz', str(error))

    def test_a_malformed_target(self):
        uuid = self.create()['uuid']
        for target in ('xda', 'vd', '', None, 3, '../disk', 'VDA'):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'detach_disk', uuid=uuid,
                                      target=target)
            self.assertEqual('target', error.field, target)


class TestDetachNotReleased(DiskTestCase):
    """A guest that keeps the disk it is asked to release."""

    def setUp(self):
        super().setUp()
        self.uuid = self.create()['uuid']
        self.call('attach_disk', uuid=self.uuid, disk=BLANK)
        self.driver.hold_detached_disks(self.uuid)

    def guest_targets(self):
        return [d.target for d in self.driver._guests[self.uuid]['disks']]

    def detaching(self):
        return self.store.get_stored(self.uuid).detaching

    def detach_held(self):
        before = self.call('get_instance', uuid=self.uuid)
        error = self.assertRaises(exception.DriverError, self.call,
                                  'detach_disk', uuid=self.uuid,
                                  target='vdb')
        self.assertIn('has not released disk vdb', str(error))
        # The record says what the guest has, and it is marked.
        self.assertEqual(before, self.call('get_instance', uuid=self.uuid))
        self.assertEqual(['vda', 'vdb'], self.targets(self.uuid))
        self.assertEqual(['vda', 'vdb'], self.guest_targets())
        self.assertEqual(('vdb',), self.detaching())
        return error

    def test_the_error_and_its_notifications(self):
        self.detach_held()
        self.assertEqual(['instance.detach_disk.start',
                          'instance.detach_disk.error'],
                         self.notifications.event_types(
                             'instance.detach_disk.'))
        error = self.notifications.payloads('instance.detach_disk.error')[0]
        self.assertEqual(('DriverError', ['vda', 'vdb']),
                         (error['error_type'],
                          [d['target'] for d in error['disks']]))

    def test_a_retry_finishes_once_the_guest_released_it(self):
        self.detach_held()
        self.detach_held()  # still held: still marked, once
        self.driver.hold_detached_disks(self.uuid, False)
        record = self.call('detach_disk', uuid=self.uuid, target='vdb')
        self.assertEqual(['vda'], [d['target'] for d in record['disks']])
        self.assertEqual(['vda'], self.targets(self.uuid))
        self.assertEqual(['vda'], self.guest_targets())
        self.assertEqual((), self.detaching())

    def test_a_stop_finishes_it(self):
        self.detach_held()
        record = self.call('stop_instance', uuid=self.uuid)
        self.assertEqual(('shutoff', ['vda']),
                         (record['state'],
                          [d['target'] for d in record['disks']]))
        self.assertEqual(['vda'], self.targets(self.uuid))
        self.assertEqual(['vda'], self.guest_targets())
        self.assertEqual((), self.detaching())
        self.call('start_instance', uuid=self.uuid)
        self.assertEqual(['vda'], self.guest_targets())

    def test_the_power_sync_finishes_it_when_the_guest_stops(self):
        self.detach_held()
        agentfixtures.set_guest_state(self.driver, self.uuid, 'shutoff')
        self.manager.power_sync.sync_power_states()
        self.assertEqual(['vda'], self.targets(self.uuid))
        self.assertEqual((), self.detaching())
        update = self.notifications.payloads(
            'instance.power_state.update')[-1]
        self.assertEqual(('shutoff', ['vda']), (
            update['state'], [d['target'] for d in update['disks']]))

    def test_the_power_sync_leaves_it_while_the_guest_runs(self):
        self.detach_held()
        agentfixtures.set_guest_state(self.driver, self.uuid, 'paused')
        self.manager.power_sync.sync_power_states()
        self.assertEqual(['vda', 'vdb'], self.targets(self.uuid))
        self.assertEqual(('vdb',), self.detaching())

    def test_a_start_finishes_it_first(self):
        # The guest stopped while no agent saw it (no power sync).
        self.detach_held()
        agentfixtures.set_guest_state(self.driver, self.uuid, 'shutoff')
        record = self.call('start_instance', uuid=self.uuid)
        self.assertEqual(('running', ['vda']),
                         (record['state'],
                          [d['target'] for d in record['disks']]))
        self.assertEqual((), self.detaching())

    def test_a_hard_reboot_of_the_stopped_guest_finishes_it_first(self):
        self.detach_held()
        agentfixtures.set_guest_state(self.driver, self.uuid, 'shutoff')
        record = self.call('reboot_instance', uuid=self.uuid, hard=True)
        self.assertEqual(('running', ['vda']),
                         (record['state'],
                          [d['target'] for d in record['disks']]))
        self.assertEqual(['vda'], self.guest_targets())
        self.assertEqual((), self.detaching())

    def test_the_mark_survives_a_restart(self):
        self.detach_held()
        restarted = agentfixtures.build_endpoint(self.conf, self.driver)
        restarted.manager.store.load_all()
        self.assertEqual(('vdb',), restarted.manager.store.get_stored(
            self.uuid).detaching)
        self.call('stop_instance', restarted, uuid=self.uuid)
        self.assertEqual(['vda'], [d['target'] for d in self.call(
            'get_instance', restarted, uuid=self.uuid)['disks']])

    def test_its_target_stays_taken(self):
        self.detach_held()
        error = self.assertRaises(exception.DriverError, self.call,
                                  'attach_disk', uuid=self.uuid,
                                  disk=dict(BLANK, target='vdb'))
        self.assertIn('has not released the disk detached from vdb',
                      str(error))
        record = self.call('attach_disk', uuid=self.uuid, disk=BLANK)
        self.assertEqual(['vda', 'vdb', 'vdc'],
                         [d['target'] for d in record['disks']])

    def test_the_last_disk_not_being_detached_stays(self):
        self.detach_held()
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'detach_disk', uuid=self.uuid,
                                  target='vda')
        self.assertIn('vda is the only disk of the instance (vdb is being '
                      'detached)', str(error))
        self.assertEqual(['vda', 'vdb'], self.guest_targets())

    def test_a_refused_detach_is_not_marked(self):
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'detach_disk',
            side_effect=exception.DriverError(reason='no')))
        self.assertRaises(exception.DriverError, self.call, 'detach_disk',
                          uuid=self.uuid, target='vdb')
        self.assertEqual((), self.detaching())
        self.assertEqual(['vda', 'vdb'], self.targets(self.uuid))

    def test_a_refused_retry_stays_marked(self):
        self.detach_held()
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'detach_disk',
            side_effect=exception.DriverError(reason='no')))
        self.assertRaises(exception.DriverError, self.call, 'detach_disk',
                          uuid=self.uuid, target='vdb')
        self.assertEqual(('vdb',), self.detaching())

    def test_a_stop_that_cannot_finish_it_still_stops(self):
        self.detach_held()
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'detach_disk',
            side_effect=exception.DriverError(reason='no')))
        record = self.call('stop_instance', uuid=self.uuid)
        self.assertEqual(('shutoff', ['vda', 'vdb']),
                         (record['state'],
                          [d['target'] for d in record['disks']]))
        self.assertEqual(('vdb',), self.detaching())


class TestChangeMedia(DiskTestCase):

    def setUp(self):
        super().setUp()
        self.uuid = self.create(disks=[
            {'source': {'image': 'a'}},
            {'source': {'blank': True}, 'device': 'cdrom'}])['uuid']

    def cdrom(self):
        record = self.call('get_instance', uuid=self.uuid)
        spec = self.store.get_stored(self.uuid).spec
        return record['disks'][1], spec.disks[1].source.to_dict()

    def test_insert_and_eject(self):
        self.assertEqual((None, {'blank': True}),
                         (self.cdrom()[0]['path'], self.cdrom()[1]))
        record = self.call('change_media', uuid=self.uuid, target='sda',
                           image='tools.iso')
        self.assertEqual('fake://image/tools.iso', record['disks'][1]['path'])
        self.assertEqual({'image': 'tools.iso'}, self.cdrom()[1])
        self.call('change_media', uuid=self.uuid, target='sda')
        self.assertEqual((None, {'blank': True}),
                         (self.cdrom()[0]['path'], self.cdrom()[1]))

    def test_not_a_cdrom(self):
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'change_media', uuid=self.uuid,
                                  target='vda', image='x.iso')
        self.assertEqual('target', error.field)
        self.assertIn('not a cdrom', str(error))
        self.assertEqual('a', self.store.get_stored(
            self.uuid).spec.disks[0].image)

    def test_bad_arguments(self):
        for kwargs, field in (({'target': 'sdz'}, 'target'),
                              ({'target': 'sda', 'image': ''}, 'image'),
                              ({'target': 'sda', 'image': 5}, 'image')):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'change_media', uuid=self.uuid,
                                      **kwargs)
            self.assertEqual(field, error.field)


class TestCommitDisk(DiskTestCase):

    def test_commit_a_snapshot_disk(self):
        uuid = self.create(disks=[{'source': {'image': 'a'},
                                   'snapshot': True}])['uuid']
        commit = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'commit_disk',
            wraps=self.driver.commit_disk)).mock
        record = self.call('commit_disk', uuid=uuid, target='vda')
        self.assertEqual('running', record['state'])
        self.assertEqual(1, commit.call_count)
        self.assertEqual('vda', commit.call_args[0][1])

    def test_not_a_snapshot_disk(self):
        uuid = self.create()['uuid']
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'commit_disk', uuid=uuid, target='vda')
        self.assertEqual('target', error.field)
        self.assertIn('not a snapshot disk', str(error))
        self.assertRaises(exception.InvalidSpec, self.call, 'commit_disk',
                          uuid=uuid, target='vdb')


class TestCommitAll(DiskTestCase):
    """commit_disk without a target: every snapshot disk (since 1.3)."""

    def setUp(self):
        super().setUp()
        self.commit = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'commit_disk',
            wraps=self.driver.commit_disk)).mock

    def committed(self):
        return [c[0][1] for c in self.commit.call_args_list]

    def test_every_snapshot_disk_in_disk_order(self):
        uuid = self.create(disks=[
            {'source': {'image': 'a'}, 'snapshot': True},
            {'source': {'blank': True}, 'size_mb': 8},
            {'source': {'blank': True}, 'size_mb': 8, 'snapshot': True,
             'bus': 'scsi'},
            {'source': {'blank': True}, 'size_mb': 8, 'snapshot': True}
        ])['uuid']
        record = self.call('commit_disk', uuid=uuid)
        self.assertEqual(['vda', 'sda', 'vdc'], self.committed())
        self.assertEqual(record, self.call('get_instance', uuid=uuid))
        self.call('commit_disk', uuid=uuid, target=None)
        self.assertEqual(6, self.commit.call_count)

    def test_no_snapshot_disk_is_nothing_to_do(self):
        uuid = self.create()['uuid']
        self.assertEqual('running',
                         self.call('commit_disk', uuid=uuid)['state'])
        self.assertEqual([], self.committed())

    def test_states(self):
        uuid = self.create()['uuid']
        self.call('stop_instance', uuid=uuid, timeout=0)
        self.assertRaises(exception.InvalidState, self.call, 'commit_disk',
                          uuid=uuid)

    def test_a_failure_names_the_disk_and_stops(self):
        uuid = self.create(disks=[
            {'source': {'image': 'a'}, 'snapshot': True},
            {'source': {'blank': True}, 'size_mb': 8, 'snapshot': True},
            {'source': {'blank': True}, 'size_mb': 8, 'snapshot': True}
        ])['uuid']
        before = self.call('get_instance', uuid=uuid)

        def commit(instance, target):
            if target == 'vdb':
                raise exception.DriverError(reason='the job failed')
        self.commit.side_effect = commit
        error = self.assertRaises(exception.DriverError, self.call,
                                  'commit_disk', uuid=uuid)
        self.assertEqual(['vda', 'vdb'], self.committed())
        self.assertEqual(
            'The hypervisor refused: the commit of vdb failed (the job '
            'failed); the snapshot disks committed before it stay '
            'committed: vda', str(error))
        self.assertEqual(before, self.call('get_instance', uuid=uuid))
        self.commit.side_effect = exception.DriverError(reason='down')
        error = self.assertRaises(exception.DriverError, self.call,
                                  'commit_disk', uuid=uuid)
        self.assertIn('the commit of vda failed (down); the snapshot disks '
                      'committed before it stay committed: none',
                      str(error))


class TestConsoleOutput(agentfixtures.ManagerTestCase):

    def test_output_of_a_booted_guest(self):
        uuid = self.create()['uuid']
        self.call('reboot_instance', uuid=uuid)
        result = self.call('get_console_output', uuid=uuid)
        self.assertEqual({'output', 'truncated', 'size'}, set(result))
        self.assertIn('fake guest %s booting' % uuid, result['output'])
        self.assertFalse(result['truncated'])
        last = self.call('get_console_output', uuid=uuid, tail_lines=1)
        self.assertEqual('fake guest %s rebooting (soft)\n' % uuid,
                         last['output'])
        self.assertTrue(last['truncated'])
        self.assertEqual(result['size'], last['size'])
        self.assertEqual('(soft)\n', self.call(
            'get_console_output', uuid=uuid, max_bytes=7)['output'])

    def test_rotated_logs_are_read(self):
        uuid = self.create()['uuid']
        with open(os.path.join(self.instance_dir(uuid),
                               'console.log.0'), 'w') as f:
            f.write('from before the rotation\n')
        output = self.call('get_console_output', uuid=uuid)['output']
        self.assertTrue(output.startswith('from before the rotation\n'))

    def test_a_guest_without_a_log(self):
        uuid = self.create(serial_ports=[{'type': 'null'}])['uuid']
        self.assertIsNone(self.call('get_instance', uuid=uuid)[
            'console_log'])
        self.assertEqual({'output': '', 'truncated': False, 'size': 0},
                         self.call('get_console_output', uuid=uuid))

    def test_argument_checks(self):
        uuid = self.create()['uuid']
        for kwargs, field in (({'tail_lines': -1}, 'tail_lines'),
                              ({'tail_lines': '10'}, 'tail_lines'),
                              ({'tail_lines': 2.5}, 'tail_lines'),
                              ({'max_bytes': 0}, 'max_bytes'),
                              ({'max_bytes': None}, 'max_bytes'),
                              ({'max_bytes': 10 * 1024 * 1024 + 1},
                               'max_bytes')):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'get_console_output', uuid=uuid,
                                      **kwargs)
            self.assertEqual(field, error.field, kwargs)
        self.call('get_console_output', uuid=uuid, tail_lines=0,
                  max_bytes=10 * 1024 * 1024)

    def test_an_instance_deleted_while_reading(self):
        # get_console_output does not take the instance's lock: a delete
        # may come between reading the record and reading its spec.
        uuid = self.create()['uuid']
        real_get = self.store.get

        def get_then_delete(wanted):
            record = real_get(wanted)
            self.store.delete(wanted)
            return record
        self.useFixture(fixtures.MockPatchObject(
            self.store, 'get', side_effect=get_then_delete))
        self.assertRaises(exception.InstanceNotFound, self.call,
                          'get_console_output', uuid=uuid)
