"""Instance storage of API 1.3's media: host cdrom drives and floppies.

A host cdrom drive is planned as the block device itself and never
made, copied or removed; a blank floppy is a 1.44 MB raw file. No
qemu-img runs here (its command is captured).
"""

import os
import stat
import subprocess

import fixtures

from computeagent import exception
from computeagent_libvirt import cache_ops
from computeagent_libvirt.storage import instance as storage_mod
from tests import base
from tests.unit.drivers.libvirt import utils


def a_block_device():
    """Some block device of this host, or None."""
    for name in sorted(os.listdir('/dev')):
        path = os.path.join('/dev', name)
        try:
            if stat.S_ISBLK(os.stat(path).st_mode):
                return path
        except OSError:
            continue
    return None


def fake_qemu_img(cmd):
    """qemu-img create, as far as the storage sees it: the file is there."""
    if 'create' in cmd:
        open(cmd[-2], 'w').close()
    return subprocess.CompletedProcess(cmd, 0, '', '')


class TestHostCdrom(base.TestCase):

    def setUp(self):
        super().setUp()
        self.storage = storage_mod.InstanceStorage(self.conf, source=None)

    def spec(self, path):
        return utils.make_spec(disks=[
            utils.make_disk(format='raw', source={'blank': True}, size_mb=1),
            utils.make_cdrom(source={'host_device': path})])

    def test_planned_as_the_block_device(self):
        device = a_block_device()
        if device is None:
            self.skipTest('this host has no block device')
        planned = self.storage.plan(self.spec(device))[1]
        self.assertEqual(('block', device, 'raw', [], None), (
            planned.source_type, planned.path, planned.format,
            planned.backing, planned.image_key))

    def test_not_a_block_device(self):
        regular = os.path.join(self.tmp, 'image.iso')
        open(regular, 'w').close()
        for path, needle in ((regular, 'not a block device'),
                             ('/dev/null', 'not a block device'),
                             (os.path.join(self.tmp, 'gone'), 'cannot use')):
            error = self.assertRaises(exception.InvalidSpec,
                                      self.storage.plan, self.spec(path))
            self.assertEqual('disks[1].source.host_device', error.field)
            self.assertIn(needle, str(error))

    def test_created_and_deleted_without_touching_it(self):
        device = a_block_device()
        if device is None:
            self.skipTest('this host has no block device')
        before = os.stat(device)
        run = self.useFixture(fixtures.MockPatch(
            'computeagent_libvirt.storage.qemuimg._run',
            side_effect=fake_qemu_img)).mock
        spec = self.spec(device)
        planned = self.storage.create_disks(spec)
        # Only the blank disk was made; nothing names the device.
        self.assertEqual(1, run.call_count)
        self.assertNotIn(device, run.call_args.args[0])
        self.assertEqual(device, planned[1].path)
        self.storage.delete_disk_files(spec.uuid, planned[1])
        self.storage.delete_instance_files(spec.uuid)
        after = os.stat(device)
        self.assertEqual((before.st_mode, before.st_uid, before.st_rdev),
                         (after.st_mode, after.st_uid, after.st_rdev))


class TestFloppy(base.TestCase):

    def setUp(self):
        super().setUp()
        self.storage = storage_mod.InstanceStorage(self.conf, source=None)
        self.run = self.useFixture(fixtures.MockPatch(
            'computeagent_libvirt.storage.qemuimg._run',
            side_effect=fake_qemu_img)).mock

    def test_blank_floppy_is_the_144_mb_medium(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(format='raw', source={'blank': True}, size_mb=1),
            utils.make_floppy(source={'blank': True})])
        planned = self.storage.create_disks(spec)[1]
        directory = os.path.join(self.conf.instances_path, spec.uuid)
        self.assertEqual((os.path.join(directory, 'disk.fda'), 'raw', []),
                         (planned.path, planned.format, planned.backing))
        self.assertEqual(
            ('qemu-img', 'create', '-q', '-f', 'raw', planned.path,
             '1474560'), tuple(self.run.call_args.args[0]))

    def test_a_blank_floppy_claims_its_medium(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(format='raw', source={'blank': True}, size_mb=1),
            utils.make_floppy(source={'blank': True})])
        sizes = cache_ops.CacheOps(self.conf, None,
                                   self.storage).disk_sizes_mb(spec)
        self.assertEqual({'fda': 2}, sizes)
