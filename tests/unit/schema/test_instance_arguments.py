"""Tests of the per-request validators of computeagent.schema.instance.

A disk to attach, the arguments of the instance methods, and the spec
fingerprint that makes creates idempotent.
"""

from computeagent import exception
from computeagent.objects import spec as spec_obj
from computeagent.schema import instance
from tests.unit.schema import test_instance as schema


class TestValidateDisk(schema.SchemaTestCase):

    def setUp(self):
        super().setUp()
        self.existing = instance.validate_spec(schema.disks(
            {'source': {'image': schema.IMG}, 'boot_index': 1},
            {'source': {'blank': True}, 'size_mb': 1},
            {'source': {'image': schema.ISO}, 'device': 'cdrom'}),
            self.conf).disks

    def attach(self, disk, **kw):
        new = instance.validate_disk(disk, self.existing, self.conf, **kw)
        self.assertIsInstance(new, spec_obj.DiskSpec)
        return new.to_dict()

    def test_target_avoids_existing_ones(self):
        self.assertEqual('vdc', self.attach({'source': {'image': schema.IMG}})
                         ['target'])
        # sda is taken by the sata cdrom: scsi shares the namespace.
        self.assertEqual('sdb', self.attach(
            {'source': {'image': schema.IMG}, 'bus': 'scsi'})['target'])

    def test_given_target_must_be_free(self):
        self.assertInvalid('disk.target', {'source': {'image': schema.IMG},
                                           'target': 'vdb'}, self.attach)
        self.assertEqual('vdz', self.attach(
            {'source': {'image': schema.IMG}, 'target': 'vdz'})['target'])

    def test_boot_index_must_be_free(self):
        self.assertInvalid('disk.boot_index', {'source': {'image': schema.IMG},
                                               'boot_index': 1},
                           self.attach)
        nics = [spec_obj.NicSpec(type='user', boot_index=2)]
        self.assertInvalid('disk.boot_index',
                           {'source': {'image': schema.IMG}, 'boot_index': 2},
                           self.attach, nics=nics)
        self.assertEqual(3, self.attach({'source': {'image': schema.IMG},
                                         'boot_index': 3},
                                        nics=nics)['boot_index'])

    def test_normalized_like_a_spec_disk(self):
        disk = self.attach({'source': {'image': schema.ISO}, 'device': 'cdrom',
                            'bus': 'ide'})
        self.assertEqual(('hda', True, 'qcow2'),
                         (disk['target'], disk['readonly'], disk['format']))

    def test_same_rules_and_caller_field(self):
        self.assertInvalid('new.cache', {'source': {'image': schema.IMG},
                                         'cache': 'x'},
                           self.attach, field='new')
        self.assertInvalid('disk', None, self.attach)
        self.assertInvalid('disk.iothread', {'source': {'image': schema.IMG},
                                             'bus': 'sata',
                                             'iothread': True},
                           self.attach)

    def test_full_instance(self):
        self.flags(max_disks=3, group='disk')
        self.assertInvalid('disk', {'source': {'image': schema.IMG}},
                           self.attach)
        # Counted before the disk is read: a full instance takes none.
        error = self.assertRaises(exception.InvalidSpec, self.attach, None)
        self.assertIn('[disk] max_disks = 3', str(error))
        self.flags(max_disks=4, group='disk')
        self.assertEqual('vdc', self.attach(
            {'source': {'image': schema.IMG}})['target'])

    def test_no_ide_target_left(self):
        self.existing = instance.validate_spec(schema.disks(
            *[{'source': {'blank': True}, 'size_mb': 1, 'bus': 'ide'}] * 4),
            self.conf).disks
        self.assertInvalid('disk.bus', {'source': {'image': schema.IMG},
                                        'bus': 'ide'}, self.attach)


class TestArguments(schema.SchemaTestCase):

    def test_validate_uuid(self):
        self.assertEqual(schema.UUID, instance.validate_uuid(schema.UUID))
        self.assertInvalid('uuid', schema.HEX_UUID.upper(),
                           instance.validate_uuid)
        self.assertInvalid('x', None, instance.validate_uuid, 'x')

    def test_validate_target(self):
        for good in ('vda', 'sdz', 'hdd', 'vdaa'):
            self.assertEqual(good, instance.validate_target(good))
        for bad in ('hde', 'vd', 'xvda', 'vda1', 'VDA', '', None, 1):
            self.assertInvalid('target', bad, instance.validate_target)

    def test_validate_image_ref(self):
        self.assertEqual('a b/c.iso', instance.validate_image_ref('a b/c.iso'))
        self.assertIsNone(instance.validate_image_ref(None, allow_none=True))
        for bad in (None, '', 'a\x00', 'i' * 256, 5):
            self.assertInvalid('image', bad, instance.validate_image_ref)

    def test_validate_bool(self):
        self.assertIs(True, instance.validate_bool(True, 'hard'))
        self.assertInvalid('hard', 1, instance.validate_bool, 'hard')

    def test_validate_tail_lines(self):
        for good in (None, 0, 1000):
            self.assertEqual(good, instance.validate_tail_lines(good))
        for bad in (-1, True, '5', 1.0):
            self.assertInvalid('tail_lines', bad,
                               instance.validate_tail_lines)

    def test_validate_max_bytes(self):
        for good in (1, 102400, 10 * 1024 * 1024):
            self.assertEqual(good, instance.validate_max_bytes(good))
        for bad in (0, 10 * 1024 * 1024 + 1, None, False, '100'):
            self.assertInvalid('max_bytes', bad, instance.validate_max_bytes)

    def test_validate_timeout(self):
        for good in (0, 60, 3600):
            self.assertEqual(good, instance.validate_timeout(good))
        for bad in (-1, 3601, 1.5, None, True):
            self.assertInvalid('timeout', bad, instance.validate_timeout)


class TestFingerprint(schema.SchemaTestCase):

    def test_stable_across_key_order(self):
        forward = schema.spec(name='a', metadata={'x': '1', 'y': '2'})
        backward = {key: forward[key] for key in reversed(list(forward))}
        backward['metadata'] = {'y': '2', 'x': '1'}
        self.assertEqual(list(reversed(list(forward))), list(backward))
        self.assertEqual(instance.spec_fingerprint(forward),
                         instance.spec_fingerprint(backward))

    def test_differs_when_the_spec_differs(self):
        one = instance.spec_fingerprint(schema.spec(name='a'))
        self.assertNotEqual(
            one, instance.spec_fingerprint(schema.spec(name='b')))
        # The request as given: a spelled-out default is a different spec.
        self.assertNotEqual(instance.spec_fingerprint(schema.spec()),
                            instance.spec_fingerprint(schema.spec(vcpus=1)))
        self.assertRegex(one, '^[0-9a-f]{64}$')

    def test_not_json_is_invalid(self):
        self.assertInvalid('spec', schema.spec(name=object()),
                           instance.spec_fingerprint)
        self.assertInvalid('spec', {1: 'a', 'b': 2},
                           instance.spec_fingerprint)
