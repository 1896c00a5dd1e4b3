"""LibvirtDriver.cleanup_image_cache on libvirt's test driver."""

import dataclasses
import os
import time

from tests.host.drivers.libvirt import driver_base
from tests.unit.drivers.libvirt import utils

OTHER = '5d0c7a4e-8d4b-4a8e-9a57-1f3e1c2b7a60'
DAY = 86400


class TestImageCacheCleanup(driver_base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.flags(unused_base_min_age=DAY, group='image')
        self.cache = self.driver.storage.cache
        self.used = self.cache.get('boot.raw').key
        self.unused = self.cache.get('data.qcow2').key
        self.record = self.spawn()

    def age(self, *keys):
        """Make the bases of ``keys`` look last used two days ago."""
        old = time.time() - 2 * DAY
        for key in keys:
            os.utime(self.cache.path_for(key) + '.json', (old, old))

    def test_bases_a_guest_names_are_kept(self):
        self.age(self.used, self.unused)
        self.assertEqual([self.unused],
                         self.driver.cleanup_image_cache([self.record.record]))
        self.assertEqual({self.used}, set(self.cache.list_entries()))
        # The guest's base was marked used: kept a day more even once
        # no guest names it.
        self.driver.destroy(self.record)
        self.assertEqual([], self.driver.cleanup_image_cache([]))
        self.age(self.used)
        self.assertEqual([self.used], self.driver.cleanup_image_cache([]))

    def test_a_cdrom_medium_counts(self):
        iso = self.spawn(self.spec(uuid=OTHER, disks=[
            utils.make_disk(source={'image': 'boot.raw'}, boot_index=1),
            utils.make_cdrom(source={'image': 'data.qcow2'})]))
        self.age(self.used, self.unused)
        self.assertEqual([], self.driver.cleanup_image_cache(
            [self.record.record, iso.record]))

    def test_recently_fetched_bases_are_kept(self):
        self.assertEqual([], self.driver.cleanup_image_cache(
            [self.record.record]))
        self.assertEqual({self.used, self.unused},
                         set(self.cache.list_entries()))

    def lose_domain(self, uuid=driver_base.UUID):
        """Undefine the guest behind the driver's back."""
        dom = self.lookup(uuid)
        dom.destroy()
        dom.undefine()

    def test_a_record_whose_domain_is_gone_keeps_the_bases_its_disks_name(
            self):
        # One qcow2 disk (an overlay on boot.raw) and one cdrom whose
        # medium is data.qcow2's base itself.
        with_cdrom = self.spawn(self.spec(uuid=OTHER, disks=[
            utils.make_disk(source={'image': 'boot.raw'}, boot_index=1),
            utils.make_cdrom(source={'image': 'data.qcow2'})]))
        self.lose_domain()
        self.lose_domain(OTHER)
        self.age(self.used, self.unused)
        self.assertEqual([], self.driver.cleanup_image_cache(
            [self.record.record, with_cdrom.record]))
        # Without the cdrom's record, its medium is unused (aged again:
        # the sweep marked what it kept as used).
        self.age(self.used, self.unused)
        self.assertEqual([self.unused],
                         self.driver.cleanup_image_cache([self.record.record]))
        self.assertEqual({self.used}, set(self.cache.list_entries()))

    def test_a_record_being_built_names_nothing(self):
        self.age(self.used, self.unused)
        building = dataclasses.replace(
            self.record.record, uuid=OTHER, state='building', disks=())
        self.assertEqual([self.unused], self.driver.cleanup_image_cache(
            [self.record.record, building]))

    def test_raw_disks_are_copies_and_name_no_base(self):
        raw = self.spawn(self.spec(uuid=OTHER, disks=[utils.make_disk(
            source={'image': 'data.qcow2'}, format='raw', boot_index=1)]))
        self.lose_domain(OTHER)
        self.age(self.used, self.unused)
        self.assertEqual([self.unused], self.driver.cleanup_image_cache(
            [self.record.record, raw.record]))

    def test_nothing_goes_while_a_disk_file_cannot_be_read(self):
        self.lose_domain()
        disk = self.record.record.disks[0].path
        with open(disk, 'wb') as f:
            f.write(b'not a qcow2 header at all')
        self.age(self.used, self.unused)
        self.assertEqual([], self.driver.cleanup_image_cache(
            [self.record.record]))
        self.assertEqual({self.used, self.unused},
                         set(self.cache.list_entries()))
