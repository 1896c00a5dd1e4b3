"""InstanceStorage: plans, disk creation with real qemu-img, rollback."""

import dataclasses
import os
import subprocess

from oslo_utils import units

from computeagent import exception
from computeagent_images import directory
from computeagent_libvirt.storage import instance as instance_storage
from computeagent_libvirt.storage import qemuimg
from tests import base
from tests import images
from tests.unit.drivers.libvirt import utils

UUID = utils.UUID


def make_spec(*disks):
    return utils.make_spec(uuid=UUID, disks=list(disks))


class StorageTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.images = self.conf.image.directory
        os.makedirs(self.images)
        images.write_raw_image(self.image('boot.raw'), b'B', size_mb=2)
        images.write_qcow2_image(self.image('disk.qcow2'), b'Q', size_mb=3)
        images.make_iso(self.image('cd.iso'), b'CD')
        self.source = directory.DirectoryImageSource(self.conf)
        self.storage = instance_storage.InstanceStorage(self.conf, self.source)
        self.dir = os.path.join(self.conf.instances_path, UUID)
        self.base_dir = os.path.join(self.conf.instances_path, '_base')

    def image(self, name):
        return os.path.join(self.images, name)

    def base_of(self, ref):
        return os.path.join(self.base_dir, self.source.identity(ref))

    def info(self, path, fmt):
        return qemuimg.info(self.conf, path, fmt)

    def instance_files(self):
        return sorted(os.listdir(self.dir))


class TestNames(StorageTestCase):

    def test_paths(self):
        self.assertEqual(self.dir, self.storage.instance_dir(UUID))
        self.assertEqual(os.path.join(self.dir, 'disk'),
                         self.storage.disk_path(UUID, 'vda', 0))
        self.assertEqual(os.path.join(self.dir, 'disk'),
                         self.storage.disk_path(UUID, 'sdb', 0))
        self.assertEqual(os.path.join(self.dir, 'disk.vdb'),
                         self.storage.disk_path(UUID, 'vdb', 1))
        self.assertEqual(os.path.join(self.dir, 'disk.vdb.snapshot'),
                         self.storage.snapshot_path(UUID, 'vdb'))

    def test_never_a_path(self):
        for bad in ('../x', UUID.upper(), UUID + '/..', '', None):
            self.assertRaises(exception.InvalidSpec,
                              self.storage.instance_dir, bad)
        for target in ('../../x', 'vd/a', '', None, 'v'):
            self.assertRaises(exception.InvalidSpec,
                              self.storage.disk_path, UUID, target, 1)


def _fields(planned, omit):
    return {k: v for k, v in dataclasses.asdict(planned).items()
            if k != omit}


class TestPlan(StorageTestCase):

    def test_plan_creates_nothing(self):
        spec = make_spec(
            utils.make_disk(source={'image': 'boot.raw'}),
            utils.make_disk(source={'image': 'disk.qcow2'}, target='vdb',
                            format='raw'),
            utils.make_disk(source={'blank': True}, size_mb=4,
                            target='vdc', snapshot=True),
            utils.make_cdrom(source={'image': 'cd.iso'}),
            utils.make_cdrom(source={'blank': True}, target='sdb'))
        plan = self.storage.plan(spec)
        self.assertFalse(os.path.exists(self.conf.instances_path))
        self.assertEqual([
            {'target': 'vda', 'device': 'disk',
             'path': os.path.join(self.dir, 'disk'), 'format': 'qcow2',
             'backing': [(self.base_of('boot.raw'), 'raw')],
             'snapshot': False,
             'image_key': self.source.identity('boot.raw')},
            {'target': 'vdb', 'device': 'disk',
             'path': os.path.join(self.dir, 'disk.vdb'), 'format': 'raw',
             'backing': [], 'snapshot': False,
             'image_key': self.source.identity('disk.qcow2')},
            {'target': 'vdc', 'device': 'disk',
             'path': os.path.join(self.dir, 'disk.vdc.snapshot'),
             'format': 'qcow2',
             'backing': [(os.path.join(self.dir, 'disk.vdc'), 'qcow2')],
             'snapshot': True, 'image_key': None},
            {'target': 'sda', 'device': 'cdrom',
             'path': self.base_of('cd.iso'), 'format': 'raw',
             'backing': [], 'snapshot': False,
             'image_key': self.source.identity('cd.iso')},
            {'target': 'sdb', 'device': 'cdrom', 'path': None,
             'format': 'raw', 'backing': [], 'snapshot': False,
             'image_key': None},
        ], [_fields(p, omit='source_type') for p in plan])
        self.assertEqual({'file'}, {p.source_type for p in plan})
        # What create_disks then makes is what the plan said.
        self.assertEqual(plan, self.storage.create_disks(spec))

    def test_undeclared_format_of_an_uncached_image(self):
        os.rename(self.image('disk.qcow2'), self.image('cirros.img'))
        spec = make_spec(utils.make_disk(source={'image': 'cirros.img'}))
        self.assertEqual([(self.base_of('cirros.img'), 'qcow2')],
                         self.storage.plan(spec)[0].backing)
        self.assertFalse(os.path.exists(self.base_dir))
        self.storage.create_disks(spec)
        self.assertEqual([(self.base_of('cirros.img'), 'qcow2')],
                         self.storage.plan(spec)[0].backing)

    def test_size_is_checked_before_and_after_caching(self):
        spec = make_spec(utils.make_disk(source={'image': 'disk.qcow2'},
                                         size_mb=2))
        # The image is inspected where it lies: its size is known.
        error = self.assertRaises(exception.InvalidSpec,
                                  self.storage.plan, spec)
        self.assertEqual('disks[0].size_mb', error.field)
        self.assertFalse(os.path.exists(self.base_dir))
        self.storage.cache.get('disk.qcow2')
        error = self.assertRaises(exception.InvalidSpec,
                                  self.storage.plan, spec)
        self.assertEqual('disks[0].size_mb', error.field)

    def test_missing_image(self):
        spec = make_spec(utils.make_disk(source={'image': 'nope.raw'}))
        self.assertRaises(exception.ImageNotFound, self.storage.plan, spec)

    def test_blank_disk_needs_a_size(self):
        spec = make_spec(utils.make_disk(source={'image': 'boot.raw'}),
                         utils.make_disk(source={'blank': True},
                                         target='vdb'))
        error = self.assertRaises(exception.InvalidSpec, self.storage.plan,
                                  spec)
        self.assertEqual('disks[1].size_mb', error.field)


class TestCreate(StorageTestCase):

    def create(self, *disks):
        return self.storage.create_disks(make_spec(*disks))

    def test_qcow2_overlay_on_raw_base(self):
        planned = self.create(utils.make_disk(source={'image': 'boot.raw'}))[0]
        info = self.info(planned.path, 'qcow2')
        self.assertEqual(self.base_of('boot.raw'), info['backing-filename'])
        self.assertEqual('raw', info['backing-filename-format'])
        self.assertEqual(2 * units.Mi, info['virtual-size'])
        self.assertEqual(0o644, os.stat(planned.path).st_mode & 0o777)
        self.assertEqual(0o755, os.stat(self.dir).st_mode & 0o777)
        self.assertEqual(['disk'], self.instance_files())

    def test_qcow2_overlay_on_qcow2_base_grown(self):
        planned = self.create(utils.make_disk(source={'image': 'disk.qcow2'},
                                              size_mb=5))[0]
        info = self.info(planned.path, 'qcow2')
        self.assertEqual('qcow2', info['backing-filename-format'])
        self.assertEqual(5 * units.Mi, info['virtual-size'])
        # The base keeps its size: growth is the overlay's alone.
        self.assertEqual(3 * units.Mi, self.info(
            self.base_of('disk.qcow2'), 'qcow2')['virtual-size'])

    def test_raw_copy(self):
        planned = self.create(utils.make_disk(source={'image': 'disk.qcow2'},
                                              format='raw'))[0]
        self.assertEqual([], planned.backing)
        self.assertEqual(3 * units.Mi, os.path.getsize(planned.path))
        with open(planned.path, 'rb') as f:
            self.assertEqual(images.make_boot_sector(b'Q', 3 * 2048),
                             f.read(512))

    def test_raw_copy_grown(self):
        planned = self.create(utils.make_disk(source={'image': 'boot.raw'},
                                              format='raw', size_mb=6))[0]
        self.assertEqual(6 * units.Mi, os.path.getsize(planned.path))
        self.assertEqual('raw', self.info(planned.path, 'raw')['format'])

    def test_same_size_is_fine_smaller_is_refused(self):
        self.create(utils.make_disk(source={'image': 'boot.raw'},
                                    size_mb=2))
        self.storage.delete_instance_files(UUID)
        error = self.assertRaises(
            exception.InvalidSpec, self.create,
            utils.make_disk(source={'image': 'boot.raw'}),
            utils.make_disk(source={'image': 'disk.qcow2'}, target='vdb',
                            size_mb=1))
        self.assertEqual('disks[1].size_mb', error.field)
        self.assertFalse(os.path.exists(self.dir))

    def test_blank_disks(self):
        plan = self.create(
            utils.make_disk(source={'blank': True}, size_mb=3),
            utils.make_disk(source={'blank': True}, size_mb=2,
                            format='raw', target='vdb'))
        info = self.info(plan[0].path, 'qcow2')
        self.assertEqual(3 * units.Mi, info['virtual-size'])
        self.assertNotIn('backing-filename', info)
        self.assertEqual(2 * units.Mi, os.path.getsize(plan[1].path))
        self.assertEqual(['disk', 'disk.vdb'], self.instance_files())

    def test_cdroms_use_the_base_read_only(self):
        plan = self.create(
            utils.make_disk(source={'blank': True}, size_mb=1),
            utils.make_cdrom(source={'image': 'cd.iso'}, format='qcow2'),
            utils.make_cdrom(source={'blank': True}, target='sdb'))
        self.assertEqual((self.base_of('cd.iso'), 'raw'),
                         (plan[1].path, plan[1].format))
        self.assertIsNone(plan[2].path)
        self.assertEqual(['disk'], self.instance_files())

    def test_snapshot_chain(self):
        planned = self.create(utils.make_disk(source={'image': 'boot.raw'},
                                              snapshot=True))[0]
        disk = os.path.join(self.dir, 'disk')
        overlay = os.path.join(self.dir, 'disk.vda.snapshot')
        self.assertEqual(overlay, planned.path)
        self.assertEqual([(disk, 'qcow2'), (self.base_of('boot.raw'), 'raw')],
                         planned.backing)
        chain = subprocess.run(
            ['qemu-img', 'info', '-f', 'qcow2', '--backing-chain',
             '--output=json', overlay],
            check=True, capture_output=True, text=True).stdout
        for path in (overlay, disk, self.base_of('boot.raw')):
            self.assertIn('"filename": "%s"' % path, chain)
        self.assertEqual(disk, self.info(overlay, 'qcow2')['backing-filename'])

    def test_snapshot_of_a_raw_disk(self):
        planned = self.create(utils.make_disk(source={'image': 'boot.raw'},
                                              format='raw', snapshot=True))[0]
        disk = os.path.join(self.dir, 'disk')
        self.assertEqual([(disk, 'raw')], planned.backing)
        info = self.info(planned.path, 'qcow2')
        self.assertEqual('raw', info['backing-filename-format'])

    def test_snapshot_overlay_discard_and_recreate(self):
        planned = self.create(utils.make_disk(source={'blank': True},
                                              size_mb=1, snapshot=True))[0]
        self.storage.discard_snapshot_overlay(planned)
        self.assertEqual(['disk'], self.instance_files())
        self.assertTrue(self.storage.ensure_snapshot_overlay(planned))
        self.assertFalse(self.storage.ensure_snapshot_overlay(planned))
        self.assertEqual(['disk', 'disk.vda.snapshot'],
                         self.instance_files())

    def test_create_one_disk(self):
        self.create(utils.make_disk(source={'image': 'boot.raw'}))
        planned = self.storage.create_disk(
            UUID, utils.make_disk(source={'blank': True}, size_mb=1,
                                  target='vdb'), 1)
        self.assertEqual(os.path.join(self.dir, 'disk.vdb'), planned.path)
        self.assertRaises(exception.DriverError, self.storage.create_disk,
                          UUID, utils.make_disk(source={'blank': True},
                                                size_mb=1, target='vdb'), 1)
        self.assertEqual(['disk', 'disk.vdb'], self.instance_files())
        self.storage.delete_disk_files(UUID, planned)
        self.assertEqual(['disk'], self.instance_files())


class TestRollback(StorageTestCase):

    def test_unsafe_image_leaves_nothing(self):
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2',
                        '-b', '/etc/passwd', '-F', 'raw',
                        self.image('evil.qcow2')], check=True)
        spec = make_spec(utils.make_disk(source={'image': 'boot.raw'}),
                         utils.make_disk(source={'image': 'evil.qcow2'},
                                         target='vdb'))
        self.assertRaises(exception.ImageUnsafe, self.storage.create_disks,
                          spec)
        self.assertFalse(os.path.exists(self.dir))
        base_files = os.listdir(self.base_dir)
        key = self.source.identity('evil.qcow2')
        self.assertEqual([], [n for n in base_files if key in n])

    def test_failure_while_creating_removes_the_directory(self):
        # Two disks on one file (validation would refuse it; storage
        # must still not half-create).
        spec = make_spec(
            utils.make_disk(source={'image': 'boot.raw'}),
            utils.make_disk(source={'blank': True}, size_mb=1,
                            target='vdb'),
            utils.make_disk(source={'blank': True}, size_mb=1,
                            target='vdb'))
        self.assertRaises(exception.DriverError, self.storage.create_disks,
                          spec)
        self.assertFalse(os.path.exists(self.dir))

    def test_existing_directory_keeps_what_was_there(self):
        os.makedirs(self.dir)
        with open(os.path.join(self.dir, 'disk.vdb'), 'w') as f:
            f.write('not ours')
        spec = make_spec(
            utils.make_disk(source={'image': 'boot.raw'}),
            utils.make_disk(source={'blank': True}, size_mb=1,
                            target='vdb'))
        self.assertRaises(exception.DriverError, self.storage.create_disks,
                          spec)
        self.assertEqual(['disk.vdb'], self.instance_files())

    def test_qemu_img_failure(self):
        # A raw blank disk larger than any file system allows.
        spec = make_spec(
            utils.make_disk(source={'image': 'boot.raw'}),
            utils.make_disk(source={'blank': True}, target='vdb',
                            size_mb=2 ** 40, format='raw'))
        error = self.assertRaises(exception.DriverError,
                                  self.storage.create_disks, spec)
        self.assertIn('qemu-img create', str(error))
        self.assertFalse(os.path.exists(self.dir))


class TestDelete(StorageTestCase):

    def test_delete_instance_files(self):
        self.storage.create_disks(make_spec(
            utils.make_disk(source={'image': 'boot.raw'})))
        with open(os.path.join(self.dir, 'console.log'), 'w') as f:
            f.write('boot\n')
        self.storage.delete_instance_files(UUID)
        self.assertFalse(os.path.exists(self.dir))
        self.assertTrue(os.path.exists(self.base_of('boot.raw')))
        self.storage.delete_instance_files(UUID)  # idempotent

    def test_delete_disk_files_never_touches_a_base(self):
        plan = self.storage.create_disks(make_spec(
            utils.make_disk(source={'image': 'boot.raw'}, snapshot=True),
            utils.make_cdrom(source={'image': 'cd.iso'})))
        for planned in plan:
            self.storage.delete_disk_files(UUID, planned)
        self.assertEqual([], self.instance_files())
        self.assertTrue(os.path.exists(self.base_of('boot.raw')))
        self.assertTrue(os.path.exists(self.base_of('cd.iso')))
