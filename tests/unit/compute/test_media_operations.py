"""The manager's disk operations on API 1.3's media (the fake driver).

A floppy attaches only to a stopped guest; a host cdrom drive's medium
is not changed through the agent; a letters boot order takes no disk
with a boot index of its own.
"""

from computeagent import exception
from tests.unit.compute import test_disk_operations as disk_tests

FLOPPY = {'source': {'blank': True}, 'device': 'floppy'}


class TestAttachFloppy(disk_tests.DiskTestCase):

    def test_refused_while_the_guest_runs(self):
        uuid = self.create()['uuid']
        for action in (None, 'pause_instance'):
            if action:
                self.call(action, uuid=uuid)
            before = self.call('get_instance', uuid=uuid)
            error = self.assertRaises(exception.InvalidState, self.call,
                                      'attach_disk', uuid=uuid, disk=FLOPPY)
            self.assertIn('attach a floppy', str(error))
            self.assertEqual(before, self.call('get_instance', uuid=uuid))

    def test_attached_to_a_stopped_guest(self):
        uuid = self.create()['uuid']
        self.call('stop_instance', uuid=uuid)
        record = self.call('attach_disk', uuid=uuid, disk=FLOPPY)
        floppy = record['disks'][1]
        self.assertEqual(('fda', 'floppy', 'fdc', 'raw'), (
            floppy['target'], floppy['device'], floppy['bus'],
            floppy['format']))
        self.assertEqual(['vda', 'fda'], self.targets(uuid))
        self.call('start_instance', uuid=uuid)


class TestLetterBootOrder(disk_tests.DiskTestCase):

    def test_records_show_the_letters_indexes(self):
        uuid = self.create(boot_order='dc', disks=[
            {'source': {'image': 'a'}},
            {'source': {'image': 'b.iso'}, 'device': 'cdrom'}])['uuid']
        record = self.call('get_instance', uuid=uuid)
        self.assertEqual([2, 1], [d['boot_index'] for d in record['disks']])
        spec = self.store.get_stored(uuid).spec
        self.assertEqual(('dc', [None, None]), (
            spec.boot_order, [d.boot_index for d in spec.disks]))

    def test_attach_with_a_boot_index_is_refused(self):
        uuid = self.create(boot_order='c')['uuid']
        error = self.assertRaises(
            exception.InvalidSpec, self.call, 'attach_disk', uuid=uuid,
            disk=dict(disk_tests.BLANK, boot_index=5))
        self.assertEqual('disk.boot_index', error.field)
        record = self.call('attach_disk', uuid=uuid, disk=disk_tests.BLANK)
        self.assertIsNone(record['disks'][1]['boot_index'])


class TestHostCdrom(disk_tests.DiskTestCase):

    def setUp(self):
        super().setUp()
        self.flags(host_cdrom_devices=['/dev/sr0'], group='disk')
        self.uuid = self.create(disks=[
            {'source': {'image': 'a'}},
            {'source': {'host_device': '/dev/sr0'},
             'device': 'cdrom'}])['uuid']

    def test_the_record_names_the_drive(self):
        record = self.call('get_instance', uuid=self.uuid)
        self.assertEqual(('cdrom', '/dev/sr0'), (
            record['disks'][1]['device'], record['disks'][1]['path']))
        self.assertEqual({'host_device': '/dev/sr0'}, self.store.get_stored(
            self.uuid).spec.disks[1].source.to_dict())

    def test_change_media_is_refused(self):
        for image in ('x.iso', None):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'change_media', uuid=self.uuid,
                                      target='sda', image=image)
            self.assertEqual('target', error.field)
            self.assertIn('host cdrom drive /dev/sr0', str(error))
        self.assertEqual('/dev/sr0', self.store.get_stored(
            self.uuid).spec.disks[1].source.host_device)
