"""Disk operations: XML helpers and the added-disk design.

The device XML is checked by defining it in a domain on libvirt's test
driver; the driver's own attach/detach/change_media/commit, which make
disks with qemu-img, are tested in tests/host/drivers/libvirt.
"""

import dataclasses
from xml.etree import ElementTree

from computeagent import exception
from computeagent.objects import record as record_obj
from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt.design import disks as disk_design
from computeagent_libvirt import disk_ops
from computeagent_libvirt.storage import instance as storage_mod
from tests import base
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
        described = record_obj.DiskRecord(
            target='vdb', device='disk', bus='virtio',
            path='/i/disk.vdb.snapshot', format='qcow2', boot_index=None,
            cache='none', aio='native', snapshot=True)
        planned = storage_mod.PlannedDisk(
            target='vdb', device='disk', path='/i/disk.vdb.snapshot',
            format='qcow2', backing=[('/i/disk.vdb', 'raw')], snapshot=True)
        self.assertEqual(
            dataclasses.replace(described, path='/i/disk.vdb',
                                format='raw'),
            disk_ops.disk_record(described, planned))
        plain = storage_mod.PlannedDisk(target='vdb', device='disk',
                                        path='/i/disk', format='qcow2')
        self.assertEqual(dataclasses.replace(described, snapshot=False),
                         disk_ops.disk_record(described, plain))


class TestDesignAddedDisk(base.TestCase):

    def design(self, disk, last_iothread=0, controllers=()):
        plan = storage_mod.PlannedDisk(
            target=disk.target, device=disk.device,
            path='/i/disk.' + disk.target, format='qcow2',
            snapshot=disk.snapshot)
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
        planned = storage_mod.PlannedDisk(target='vdb', device='disk',
                                          path='/i/disk.vdb', format='raw')
        self.assertRaises(exception.InvalidSpec, disk_design.design_added_disk,
                          1, disk, planned, {}, False, 'pc')
