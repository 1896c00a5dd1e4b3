"""Disk operations: XML helpers, the added-disk design, and the driver's
attach/detach/change_media/commit on libvirt's test driver.

libvirt 9.0's test driver implements none of attachDeviceFlags,
detachDeviceFlags, updateDeviceFlags or blockCommit, so on it these
tests check the refusal (a DriverError with libvirt's message) and the
clean-up; the device XML is checked by defining it in a domain, and the
success paths are for the functional tests against QEMU.
"""

import os
from xml.etree import ElementTree

from computeagent import exception
from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt.design import disks as disk_design
from computeagent_libvirt import disk_ops
from tests import base
from tests import images
from tests.unit.drivers.libvirt import driver_base
from tests.unit.drivers.libvirt import testdriver
from tests.unit.drivers.libvirt import utils

UUID = utils.UUID

DOMAIN = """<domain type='qemu'>
  <iothreads>2</iothreads>
  <devices>
    <disk type='file' device='disk'>
      <source file='/i/disk.vda.snapshot'/><target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sda' bus='sata'/><readonly/>
    </disk>
    <controller type='sata' index='0'/>
    <controller type='pci' index='0' model='pci-root'/>
  </devices>
</domain>"""


class TestHelpers(base.TestCase):

    def test_find_disk(self):
        guest = guest_config.Guest.parse_str(DOMAIN)
        self.assertEqual('/i/disk.vda.snapshot',
                         guest.disk('vda').source_path)
        self.assertEqual('cdrom', guest.disk('sda').device)
        self.assertIsNone(guest.disk('vdb'))

    def test_guest_facts(self):
        self.assertEqual((2, {('sata', 0), ('pci', 0)}),
                         disk_ops._guest_facts(
                             guest_config.Guest.parse_str(DOMAIN)))
        with_ids = DOMAIN.replace(
            '<iothreads>2</iothreads>', '<iothreads>2</iothreads>'
            '<iothreadids><iothread id="1"/><iothread id="5"/>'
            '</iothreadids>')
        self.assertEqual(5, disk_ops._guest_facts(
            guest_config.Guest.parse_str(with_ids))[0])

    def test_snapshot_xml(self):
        root = ElementTree.fromstring(disk_ops.overlay_snapshot(
            guest_config.Guest.parse_str(DOMAIN), 'vda',
            '/i/new.snapshot').to_xml())
        self.assertEqual('domainsnapshot', root.tag)
        vda, sda = root.findall('disks/disk')
        self.assertEqual({'name': 'vda', 'snapshot': 'external'}, vda.attrib)
        self.assertEqual('/i/new.snapshot', vda.find('source').get('file'))
        self.assertEqual('qcow2', vda.find('driver').get('type'))
        # Otherwise libvirt would snapshot every other disk too.
        self.assertEqual({'name': 'sda', 'snapshot': 'no'}, sda.attrib)

    def test_disk_record_of_snapshot_disk(self):
        described = {'target': 'vdb', 'path': '/i/disk.vdb.snapshot',
                     'format': 'qcow2', 'snapshot': True}
        entry = {'snapshot': True, 'path': '/i/disk.vdb.snapshot',
                 'backing': [('/i/disk.vdb', 'raw')]}
        self.assertEqual({'target': 'vdb', 'path': '/i/disk.vdb',
                          'format': 'raw', 'snapshot': True},
                         disk_ops.disk_record(described, entry))
        plain = {'snapshot': False, 'path': '/i/disk', 'backing': []}
        self.assertEqual(dict(described, snapshot=False),
                         disk_ops.disk_record(described, plain))


class TestDesignAddedDisk(base.TestCase):

    def design(self, disk, last_iothread=0, controllers=()):
        plan = {'path': '/i/disk.' + disk['target'], 'format': 'qcow2',
                'backing': []}
        return disk_design.design_added_disk(
            1, disk, plan, {}, True, 'pc', last_iothread, controllers)

    def test_same_decisions_as_spawn(self):
        disk = utils.make_disk(target='vdb', aio=None, cache=None)
        conf, controllers, iothread = self.design(disk)
        self.assertEqual(('none', 'native'),
                         (conf.driver_cache, conf.driver_io))
        self.assertEqual(([], None), (controllers, iothread))

    def test_next_iothread(self):
        disk = utils.make_disk(target='vdb', iothread=True)
        conf, _c, iothread = self.design(disk, last_iothread=2)
        self.assertEqual((3, 3), (iothread, conf.driver_iothread))

    def test_scsi_controller_only_when_missing(self):
        disk = utils.make_disk(target='sdb', bus='scsi')
        _d, controllers, _i = self.design(disk)
        self.assertEqual([('scsi', 0, 'virtio-scsi')],
                         [(c.type, c.index, c.model) for c in controllers])
        _d, controllers, _i = self.design(disk, controllers={('scsi', 0)})
        self.assertEqual([], controllers)

    def test_device_xml_is_accepted_by_libvirt(self):
        libvirt = self.useFixture(testdriver.TestDriver())
        disk = utils.make_disk(target='sdb', bus='scsi', serial='abc')
        conf, controllers, _i = self.design(disk)
        guest = guest_config.Guest()
        guest.virt_type = 'qemu'
        guest.name = 'instance-' + UUID
        guest.uuid = UUID
        guest.memory_kib = 65536
        for device in controllers + [conf]:
            guest.add_device(device)
        libvirt.define(guest.to_xml())

    def test_invalid_disk(self):
        disk = utils.make_disk(target='vdb', cache='none')
        self.assertRaises(exception.InvalidSpec, disk_design.design_added_disk,
                          1, disk, {'path': '/i/disk.vdb', 'format': 'raw'},
                          {}, False, 'pc')


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
        record = dict(self.record, disks=[
            d for d in self.record['disks'] if d['target'] != 'vdb'])
        record['spec'] = dict(record['spec'], disks=[
            d for d in record['spec']['disks'] if d['target'] != 'vdb'])
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
