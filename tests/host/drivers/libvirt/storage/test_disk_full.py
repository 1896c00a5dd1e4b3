"""qemu-img and the image cache filling a small filesystem, for real.

The instances path is a tmpfs of a few MiB (tests/smallfs.py); what runs
out of room must be InsufficientResources naming the filesystem, with
no disk, instance directory or partial image left.
"""

import os

from computeagent import exception
from computeagent_images import directory
from computeagent_libvirt.storage import instance as instance_storage
from computeagent_libvirt.storage import qemuimg
from tests import base
from tests import smallfs
from tests.unit.drivers.libvirt import utils

UUID = utils.UUID


class TestQemuImgFillsTheFilesystem(base.TestCase):

    def test_convert(self):
        small = self.useFixture(smallfs.SmallFilesystem(
            os.path.join(self.tmp, 'small'), 8))
        source = smallfs.write_full_raw_image(
            os.path.join(self.tmp, 'src.raw'), b'S', 16)
        dest = os.path.join(small.path, 'disk')
        error = self.assertRaises(exception.InsufficientResources,
                                  qemuimg.convert, self.conf, source, 'raw',
                                  dest, 'raw')
        self.assertEqual(
            'The host cannot fit the instance: no space left on the '
            'filesystem at %s writing %s (qemu-img convert)'
            % (small.path, dest), str(error))

    def test_create_of_a_qcow2_header(self):
        small = self.useFixture(smallfs.SmallFilesystem(
            os.path.join(self.tmp, 'small'), 1))
        filler = os.path.join(small.path, 'filler')
        with open(filler, 'wb') as f:
            self.assertRaises(OSError, f.write, os.urandom(2 * 1024 * 1024))
        dest = os.path.join(small.path, 'disk')
        error = self.assertRaises(exception.InsufficientResources,
                                  qemuimg.create_blank, self.conf, dest,
                                  'qcow2', 1024 * 1024 * 1024)
        self.assertIn('writing %s (qemu-img create)' % dest, str(error))


class TestCreateDisksFillTheFilesystem(base.TestCase):
    """create_disks with ``instances_path`` on a 12 MiB filesystem."""

    def setUp(self):
        super().setUp()
        self.small = self.useFixture(smallfs.SmallFilesystem(
            self.conf.instances_path, 12))
        os.makedirs(self.conf.image.directory)
        self.storage = instance_storage.InstanceStorage(
            self.conf, directory.DirectoryImageSource(self.conf))
        self.base_dir = os.path.join(self.conf.instances_path, '_base')

    def image(self, size_mb):
        name = 'full-%d.raw' % size_mb
        smallfs.write_full_raw_image(
            os.path.join(self.conf.image.directory, name), b'F', size_mb)
        return name

    def spec(self, ref, fmt):
        return utils.make_spec(disks=[utils.make_disk(
            source={'image': ref}, format=fmt, boot_index=1)])

    def base_files(self):
        return sorted(name for name in os.listdir(self.base_dir)
                      if name != '.locks')

    def test_a_raw_copy_that_does_not_fit(self):
        # The 8 MiB image fits in the cache; its 8 MiB copy does not.
        ref = self.image(8)
        key = self.storage.source.identity(ref)
        error = self.assertRaises(exception.InsufficientResources,
                                  self.storage.create_disks,
                                  self.spec(ref, 'raw'))
        self.assertIn('no space left on the filesystem at %s writing %s '
                      '(qemu-img convert)' % (
                          self.conf.instances_path,
                          self.storage.disk_path(UUID, 'vda', 0)),
                      str(error))
        self.assertFalse(os.path.exists(self.storage.instance_dir(UUID)))
        # The verified base stays (shared, complete); no partial file.
        self.assertEqual([key, key + '.json'], self.base_files())
        self.assertGreater(self.small.free_bytes(), 3 * 1024 * 1024)

    def test_an_image_that_does_not_fit_in_the_cache(self):
        ref = self.image(16)
        error = self.assertRaises(exception.InsufficientResources,
                                  self.storage.create_disks,
                                  self.spec(ref, 'qcow2'))
        self.assertIn('(image %s fetched into the cache)' % ref, str(error))
        self.assertEqual([], self.base_files())
        self.assertFalse(os.path.exists(self.storage.instance_dir(UUID)))
        self.assertGreater(self.small.free_bytes(), 11 * 1024 * 1024)
