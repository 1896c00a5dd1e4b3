"""LibvirtDriver.disk_sizes_mb: image sizes for admission, never fetched."""

import os

from tests.host.drivers.libvirt import driver_base
from tests.unit.drivers.libvirt import utils


class TestDiskSizes(driver_base.DriverTestCase):

    def test_known_before_and_after_caching(self):
        spec = self.spec(disks=[
            utils.make_disk(source={'image': 'boot.raw'}, boot_index=1),
            utils.make_disk(source={'image': 'data.qcow2'}, target='vdb',
                            format='raw'),
            utils.make_disk(source={'blank': True}, size_mb=5,
                            target='vdc')])
        # Read from the image files where they lie (1 MiB images of
        # tests/images.py); the blank disk has its size_mb.
        self.assertEqual({'vda': 1, 'vdb': 1},
                         self.driver.disk_sizes_mb(spec))
        # Asking fetched nothing.
        self.assertFalse(os.path.exists(os.path.join(
            self.conf.instances_path, '_base')) and os.listdir(
                os.path.join(self.conf.instances_path, '_base')))
        self.driver.spawn(spec)
        # The same, from the cache, once fetched.
        self.assertEqual({'vda': 1, 'vdb': 1},
                         self.driver.disk_sizes_mb(spec))

    def test_rounded_up_to_a_mib(self):
        with open(self.image('odd.raw'), 'wb') as f:
            f.truncate(3 * 1024 * 1024 + 512)
        spec = self.spec(disks=[
            utils.make_disk(source={'image': 'odd.raw'}, format='raw')])
        self.driver.storage.cache.get('odd.raw')
        self.assertEqual({'vda': 4}, self.driver.disk_sizes_mb(spec))

    def test_cdroms_and_missing_images_are_left_out(self):
        self.driver.storage.cache.get('boot.raw')
        spec = self.spec(disks=[
            utils.make_disk(source={'image': 'boot.raw'}, device='cdrom',
                            bus='sata', target='sda', readonly=True),
            utils.make_disk(source={'image': 'no-such.raw'},
                            target='vda')])
        self.assertEqual({}, self.driver.disk_sizes_mb(spec))
