"""The driver's attach/detach/change_media/commit on libvirt's test driver.

libvirt 9.0's test driver implements none of attachDeviceFlags,
detachDeviceFlags, updateDeviceFlags or blockCommit, so on it these
tests check the refusal (a DriverError with libvirt's message) and the
clean-up; the success paths are for the functional tests against QEMU.
The driver makes the instances' disks with qemu-img.
"""

import dataclasses
import os

from computeagent import exception
from tests.host.drivers.libvirt import driver_base
from tests import images
from tests.unit.drivers.libvirt import utils


class TestDriverDiskOps(driver_base.DriverTestCase):

    def setUp(self):
        super().setUp()
        images.make_iso(self.image('cd.iso'), b'CD')
        self.record = self.spawn(self.spec(disks=[
            utils.make_disk(source={'image': 'boot.raw'}, boot_index=1),
            utils.make_disk(source={'blank': True}, size_mb=1, target='vdb',
                            snapshot=True),
            utils.make_cdrom(source={'blank': True}, target='sda')]))

    def files(self):
        return sorted(os.listdir(self.instance_dir()))

    def test_attach_refused_removes_the_new_disk(self):
        before = self.files()
        disk = utils.make_disk(source={'blank': True}, size_mb=1,
                               target='vdc')
        error = self.assertRaises(exception.DriverError,
                                  self.driver.attach_disk, self.record, disk)
        self.assertIn('not supported', str(error))
        self.assertEqual(before, self.files())
        self.assertNotIn('vdc', self.disk_sources(self.lookup().XMLDesc(0)))

    def test_attach_to_a_target_the_guest_still_holds(self):
        # After a detach the guest did not acknowledge, the record and
        # spec no longer have vdb but the running guest still does.
        record = dataclasses.replace(
            self.record,
            record=dataclasses.replace(self.record.record, disks=tuple(
                d for d in self.record.record.disks if d.target != 'vdb')),
            spec=dataclasses.replace(self.record.spec, disks=tuple(
                d for d in self.record.spec.disks if d.target != 'vdb')))
        before = self.files()
        disk = utils.make_disk(source={'blank': True}, size_mb=1,
                               target='vdb')
        error = self.assertRaises(exception.DriverError,
                                  self.driver.attach_disk, record, disk)
        self.assertIn('has not released the disk detached from vdb',
                      str(error))
        self.assertEqual(before, self.files())

    def test_attach_invalid_disk_removes_the_new_disk(self):
        before = self.files()
        disk = utils.make_disk(source={'blank': True}, size_mb=1,
                               target='vdc', cache='writeback', aio='native')
        self.assertRaises(exception.InvalidSpec, self.driver.attach_disk,
                          self.record, disk)
        self.assertEqual(before, self.files())

    def test_detach_refused_keeps_the_files(self):
        before = self.files()
        error = self.assertRaises(exception.DriverError,
                                  self.driver.detach_disk, self.record,
                                  'vdb')
        self.assertIn('not supported', str(error))
        self.assertEqual(before, self.files())

    def test_detach_unknown_target(self):
        self.assertRaises(exception.InvalidSpec, self.driver.detach_disk,
                          self.record, 'vdz')

    def test_change_media_refused(self):
        error = self.assertRaises(exception.DriverError,
                                  self.driver.change_media, self.record,
                                  'sda', 'cd.iso')
        self.assertIn('not supported', str(error))
        self.assertRaises(exception.ImageNotFound, self.driver.change_media,
                          self.record, 'sda', 'missing.iso')

    def test_commit_refused(self):
        error = self.assertRaises(exception.DriverError,
                                  self.driver.commit_disk, self.record,
                                  'vdb')
        self.assertIn('not supported', str(error))
        # Nothing was merged nor dropped.
        self.assertIn('disk.vdb.snapshot', self.files())

    def test_commit_of_stopped_guest(self):
        self.driver.power_off(self.record)
        error = self.assertRaises(exception.DriverError,
                                  self.driver.commit_disk, self.record,
                                  'vdb')
        self.assertIn('not running', str(error))
