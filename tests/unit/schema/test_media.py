"""Schema rules of API 1.3's media: floppies, host cdroms, boot_order."""

from computeagent.schema import instance
from tests.unit.schema import test_instance as schema

FLOPPY_IMG = 'dos.img'


def floppy(**kw):
    return dict({'source': {'image': FLOPPY_IMG}, 'device': 'floppy'}, **kw)


def host_cdrom(path='/dev/sr0', **kw):
    return dict({'source': {'host_device': path}, 'device': 'cdrom'}, **kw)


class TestFloppy(schema.SchemaTestCase):

    def test_defaults(self):
        normalized = self.validate(schema.disks(
            {'source': {'image': schema.IMG}}, floppy(), floppy()))
        self.assertEqual(
            [('fdc', 'fda', 'raw', False), ('fdc', 'fdb', 'raw', False)],
            [(d['bus'], d['target'], d['format'], d['readonly'])
             for d in normalized['disks'][1:]])

    def test_raw_whatever_the_default_format(self):
        self.flags(default_format='qcow2', group='disk')
        disk = self.validate(schema.disks(floppy()))['disks'][0]
        self.assertEqual('raw', disk['format'])

    def test_qcow2_is_refused(self):
        error = self.assertInvalid('disks[0].format', schema.disks(
            floppy(format='qcow2')))
        self.assertIn('raw', str(error))

    def test_qed_stays_refused(self):
        self.assertInvalid('disks[0].format', schema.disks(
            floppy(format='qed')))

    def test_only_on_fdc_and_fdc_only_for_floppies(self):
        for bus in ('virtio', 'ide', 'sata', 'scsi'):
            self.assertInvalid('disks[0].bus',
                               schema.disks(floppy(bus=bus)))
        for device in ('disk', 'cdrom'):
            self.assertInvalid('disks[0].bus', schema.disks(
                {'source': {'image': schema.IMG}, 'device': device,
                 'bus': 'fdc'}))

    def test_at_most_two(self):
        error = self.assertInvalid('disks[2].bus', schema.disks(
            floppy(), floppy(), floppy()))
        self.assertIn('fda to fdb', str(error))

    def test_targets(self):
        normalized = self.validate(schema.disks(
            floppy(target='fdb'), floppy()))
        self.assertEqual(['fdb', 'fda'],
                         [d['target'] for d in normalized['disks']])
        for target in ('fdc', 'fd', 'fdaa'):
            self.assertInvalid('disks[0].target',
                               schema.disks(floppy(target=target)))
        self.assertInvalid('disks[0].target',
                           schema.disks(floppy(target='hda')))
        self.assertInvalid('disks[0].target', schema.disks(
            {'source': {'image': schema.IMG}, 'target': 'fda'}))
        self.assertEqual('fdb', instance.validate_target('fdb'))

    def test_what_a_floppy_cannot_have(self):
        for key, value in (('snapshot', True), ('iothread', True),
                           ('serial', 'abc'), ('size_mb', 2)):
            self.assertInvalid('disks[0].%s' % key,
                               schema.disks(floppy(**{key: value})))

    def test_what_a_floppy_may_have(self):
        disk = self.validate(schema.disks(floppy(
            readonly=True, cache='writeback', aio='threads',
            discard='unmap', iotune={'total_bytes_sec': 1000},
            boot_index=1)))['disks'][0]
        self.assertEqual(
            (True, 'writeback', 'threads', 'unmap', 1),
            (disk['readonly'], disk['cache'], disk['aio'], disk['discard'],
             disk['boot_index']))

    def test_blank_floppy_needs_no_size(self):
        disk = self.validate(schema.disks(
            floppy(source={'blank': True})))['disks'][0]
        self.assertEqual(({'blank': True}, None),
                         (disk['source'], disk['size_mb']))

    def test_attach_counts_the_existing_floppies(self):
        existing = instance.validate_spec(schema.disks(
            {'source': {'image': schema.IMG}}, floppy(), floppy()),
            self.conf).disks
        self.assertInvalid('disk.bus', floppy(), instance.validate_disk,
                           existing, self.conf)
        new = instance.validate_disk(floppy(), existing[:2], self.conf)
        self.assertEqual('fdb', new.target)


class TestHostCdrom(schema.SchemaTestCase):

    def setUp(self):
        super().setUp()
        self.flags(host_cdrom_devices=['/dev/sr0', '/dev/loop7'],
                   group='disk')

    def test_listed_device(self):
        disk = self.validate(schema.disks(
            {'source': {'image': schema.IMG}}, host_cdrom()))['disks'][1]
        self.assertEqual(({'host_device': '/dev/sr0'}, 'sata', True),
                         (disk['source'], disk['bus'], disk['readonly']))

    def test_normalizes_to_itself(self):
        normalized = self.validate(schema.disks(host_cdrom()))
        self.assertEqual(normalized, self.validate(normalized))

    def test_unlisted_device(self):
        error = self.assertInvalid('disks[0].source.host_device',
                                   schema.disks(host_cdrom('/dev/sr1')))
        self.assertIn('host_cdrom_devices', str(error))

    def test_none_allowed_by_default(self):
        self.flags(host_cdrom_devices=[], group='disk')
        error = self.assertInvalid('disks[0].source.host_device',
                                   schema.disks(host_cdrom()))
        self.assertIn('none', str(error))

    def test_only_a_cdrom(self):
        for device in ('disk', 'floppy'):
            self.assertInvalid('disks[0].source.host_device', schema.disks(
                host_cdrom(device=device)))

    def test_not_an_absolute_normalized_path(self):
        self.flags(host_cdrom_devices=['sr0', '/dev/../dev/sr0'],
                   group='disk')
        for path in ('sr0', '/dev/../dev/sr0', '/dev//sr0'):
            self.assertInvalid('disks[0].source.host_device',
                               schema.disks(host_cdrom(path)))

    def test_not_a_string(self):
        for value in (None, 7, ['/dev/sr0'], ''):
            self.assertInvalid('disks[0].source.host_device',
                               schema.disks(host_cdrom(value)))

    def test_one_source_only(self):
        self.assertInvalid('disks[0].source', schema.disks(
            {'source': {'host_device': '/dev/sr0', 'blank': True},
             'device': 'cdrom'}))


class TestBootOrder(schema.SchemaTestCase):

    def test_kept_as_given(self):
        for letters in ('c', 'dc', 'cdna', 'n', 'a'):
            normalized = self.validate(schema.spec(boot_order=letters))
            self.assertEqual(letters, normalized['boot_order'])
            # The letters stay letters: no disk gets a boot_index.
            self.assertIsNone(normalized['disks'][0]['boot_index'])
            self.assertEqual(normalized, self.validate(normalized))

    def test_null_is_the_default(self):
        self.assertIsNone(self.validate(schema.spec())['boot_order'])
        self.assertIsNone(
            self.validate(schema.spec(boot_order=None))['boot_order'])

    def test_bad_letters(self):
        for value in ('', 'x', 'cc', 'cdnac', 'C', 'c d', 1, ['c'], True):
            self.assertInvalid('boot_order', schema.spec(boot_order=value))

    def test_mixing_with_a_disk_boot_index(self):
        error = self.assertInvalid('disks[1].boot_index', schema.spec(
            boot_order='dc',
            disks=[{'source': {'image': schema.IMG}},
                   {'source': {'image': schema.ISO}, 'device': 'cdrom',
                    'boot_index': 1}]))
        self.assertIn('boot_order', str(error))

    def test_mixing_with_a_nic_boot_index(self):
        self.assertInvalid('nics[0].boot_index', schema.spec(
            boot_order='n', nics=[{'boot_index': 1}]))

    def test_attach_with_boot_index_to_a_letters_instance(self):
        existing = instance.validate_spec(
            schema.spec(boot_order='c'), self.conf).disks
        error = self.assertInvalid(
            'disk.boot_index',
            {'source': {'blank': True}, 'size_mb': 1, 'boot_index': 2},
            instance.validate_disk, existing, self.conf, boot_order='c')
        self.assertIn("instance's boot_order", str(error))
        new = instance.validate_disk(
            {'source': {'blank': True}, 'size_mb': 1}, existing, self.conf,
            boot_order='c')
        self.assertIsNone(new.boot_index)
