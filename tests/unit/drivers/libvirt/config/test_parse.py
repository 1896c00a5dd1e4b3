"""The configuration objects read back: round trips, and libvirt's XML.

Every class is formatted, parsed and formatted again, which must give
the same text; a domain libvirt stores is read with what libvirt added
kept, so that the driver never reads domain XML by other means.
"""

import os
from xml.etree import ElementTree

import libvirt

from computeagent_libvirt.config import base as config_base
from computeagent_libvirt.config import caps as caps_config
from computeagent_libvirt.config import devices as device_config
from computeagent_libvirt.config import disks as disk_config
from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt.config import snapshot as snapshot_config
from tests import base
from tests.unit.drivers.libvirt import testdriver
from tests.unit.drivers.libvirt import utils

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'golden')


def _disk():
    disk = disk_config.Disk()
    disk.driver_format = 'qcow2'
    disk.driver_cache = 'none'
    disk.driver_io = 'native'
    disk.driver_discard = 'unmap'
    disk.driver_iothread = 2
    disk.source_path = '/i/disk'
    disk.backing = [('/i/base', 'qcow2'), ('/b/root', 'raw')]
    disk.target_dev = 'vda'
    disk.target_bus = 'virtio'
    disk.iotune = {'total_bytes_sec': 0, 'read_iops_sec': 4}
    disk.readonly = True
    disk.serial = 'SER-1'
    disk.boot_order = 2
    disk.address = disk_config.PciAddress(bus=1, slot=7, function=3)
    return disk


def _block_disk():
    disk = disk_config.Disk()
    disk.source_type = 'block'
    disk.source_path = '/dev/sdz'
    disk.driver_format = 'raw'
    disk.target_dev = 'sda'
    disk.target_bus = 'scsi'
    disk.address = disk_config.DriveAddress(unit=3)
    return disk


def _empty_cdrom():
    disk = disk_config.Disk()
    disk.device = 'cdrom'
    disk.driver_format = 'raw'
    disk.target_dev = 'hda'
    disk.target_bus = 'ide'
    disk.readonly = True
    return disk


def _chardev(cls, kind, **fields):
    dev = cls()
    dev.type = kind
    for name, value in fields.items():
        setattr(dev, name, value)
    return dev


def _interface(kind, **fields):
    iface = device_config.Interface()
    iface.type = kind
    iface.mac = '52:54:00:00:00:01'
    iface.model = 'virtio'
    for name, value in fields.items():
        setattr(iface, name, value)
    return iface


def _guest():
    guest = guest_config.Guest()
    guest.virt_type = 'qemu'
    guest.name = 'instance-x'
    guest.uuid = utils.UUID
    guest.memory_kib = 131072
    guest.vcpus = 2
    guest.iothreads = 3
    guest.iothread_ids = [1, 2, 5]
    guest.os_arch = 'x86_64'
    guest.os_machine = 'q35'
    guest.os_bootmenu = False
    guest.on_crash = 'restart'
    guest.emulator = '/usr/bin/qemu-system-x86_64'
    guest.metadata.append(guest_config.InstanceMetadata('web <1> & "db"'))
    for device in (_disk(), _empty_cdrom(),
                   disk_config.Controller('scsi', 0, 'virtio-scsi'),
                   _chardev(device_config.Serial, 'file',
                            source_path='/i/console.log',
                            source_append=True, target_port=0),
                   _chardev(device_config.Console, 'file',
                            source_path='/i/console.log',
                            source_append=True, target_type='serial',
                            target_port=0),
                   _interface('bridge', source_bridge='br0'),
                   device_config.Graphics('vnc', listen='127.0.0.1'),
                   device_config.Video('vga'),
                   device_config.MemBalloon('none')):
        guest.add_device(device)
    return guest


#: one or more well-filled objects of every configuration class
SAMPLES = {
    guest_config.Guest: [_guest, guest_config.Guest, lambda: _uefi('')],
    guest_config.InstanceMetadata: [
        lambda: guest_config.InstanceMetadata('db & <web>'),
        guest_config.InstanceMetadata],
    disk_config.Disk: [_disk, _block_disk, _empty_cdrom],
    disk_config.DriveAddress: [
        lambda: disk_config.DriveAddress(controller=1, bus=0, target=2,
                                         unit=3)],
    disk_config.PciAddress: [
        lambda: disk_config.PciAddress(domain=1, bus=0x1f, slot=0x1c,
                                       function=7)],
    disk_config.Controller: [
        lambda: disk_config.Controller('scsi', 1, 'virtio-scsi'),
        lambda: disk_config.Controller('sata', 0)],
    device_config.Serial: [
        lambda: _chardev(device_config.Serial, 'file',
                         source_path='/i/console.log', source_append=False,
                         log_file=None, target_port=0),
        lambda: _chardev(device_config.Serial, 'pty',
                         log_file='/i/console.1.log', log_append=True,
                         target_port=1),
        lambda: _chardev(device_config.Serial, 'unix', source_mode='bind',
                         source_path='/i/serial2.sock',
                         log_file='/i/console.2.log', log_append=False,
                         target_port=2),
        lambda: _chardev(device_config.Serial, 'tcp', source_mode='bind',
                         source_host='127.0.0.1', source_service='4555',
                         protocol='telnet', target_port=3),
        lambda: _chardev(device_config.Serial, 'null', target_port=1),
        lambda: _chardev(device_config.Serial, 'udp',
                         source_host='192.0.2.1', source_service='5000',
                         bind_host='0.0.0.0', bind_service='5001',
                         target_port=2),
        lambda: _chardev(device_config.Serial, 'udp',
                         source_host='127.0.0.1', source_service='5000',
                         target_port=2),
        lambda: _chardev(device_config.Serial, 'pipe',
                         source_path='/i/serial3', log_file='/i/console.3.log',
                         log_append=True, target_port=3)],
    device_config.Parallel: [
        lambda: _chardev(device_config.Parallel, 'file',
                         source_path='/i/parallel0.log', source_append=True,
                         target_port=0),
        lambda: _chardev(device_config.Parallel, 'udp',
                         source_host='127.0.0.1', source_service='5000',
                         bind_host='127.0.0.1', target_port=1)],
    device_config.Console: [
        lambda: _chardev(device_config.Console, 'pty', target_type='serial',
                         target_port=0)],
    device_config.Video: [lambda: device_config.Video('virtio')],
    device_config.Graphics: [
        lambda: device_config.Graphics('vnc', listen='127.0.0.1'),
        lambda: device_config.Graphics('vnc', autoport=False, port=5901)],
    device_config.Interface: [
        lambda: _interface('user', boot_order=3),
        lambda: _interface('network', source_network='default'),
        lambda: _interface('bridge', source_bridge='br0')],
    device_config.MemBalloon: [lambda: device_config.MemBalloon('virtio')],
    config_base.Unparsed: [
        lambda: config_base.Unparsed(ElementTree.fromstring(
            "<input type='tablet' bus='usb'><address type='usb' bus='0' "
            "port='1'/></input>"))],
    caps_config.Capabilities: [caps_config.Capabilities,
                               lambda: _caps('aarch64')],
    snapshot_config.SnapshotDisk: [
        lambda: snapshot_config.SnapshotDisk('vdb', 'no'),
        lambda: snapshot_config.SnapshotDisk('vda', 'external', 'qcow2',
                                             '/i/disk.snapshot')],
    snapshot_config.DomainSnapshot: [lambda: _snapshot()],
}


def _uefi(nvram):
    guest = _guest()
    guest.os_nvram = nvram
    return guest


def _caps(arch):
    caps = caps_config.Capabilities()
    caps.host_arch = arch
    return caps


def _snapshot():
    snap = snapshot_config.DomainSnapshot()
    snap.disks = [snapshot_config.SnapshotDisk('vda', 'external', 'qcow2',
                                               '/i/disk.snapshot'),
                  snapshot_config.SnapshotDisk('sda', 'no')]
    return snap


def _shape(element):
    """An element's tag and its children's shapes, whatever their order."""
    return element.tag, sorted(_shape(child) for child in element)


def _all_classes(cls=config_base.ConfigObject):
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _all_classes(sub)
    return found


class TestRoundTrip(base.TestCase):
    """format -> parse -> format gives the same text, for every class."""

    def test_every_class_has_samples(self):
        # CharDevice is the base of Serial, Parallel and Console, never
        # rendered.
        self.assertEqual(_all_classes() - {device_config.CharDevice},
                         set(SAMPLES))

    def test_round_trip(self):
        for cls, makers in SAMPLES.items():
            for make in makers:
                original = make()
                for pretty in (True, False):
                    xml = original.to_xml(pretty=pretty)
                    parsed = cls.parse_str(xml)
                    self.assertIsInstance(parsed, cls)
                    self.assertEqual(xml, parsed.to_xml(pretty=pretty),
                                     cls.__name__)

    def test_fields_are_typed(self):
        disk = disk_config.Disk.parse_str(_disk().to_xml())
        self.assertEqual((2, 2, [('/i/base', 'qcow2'), ('/b/root', 'raw')]),
                         (disk.driver_iothread, disk.boot_order,
                          disk.backing))
        self.assertEqual({'total_bytes_sec': 0, 'read_iops_sec': 4},
                         disk.iotune)
        self.assertEqual((0, 1, 7, 3), (
            disk.address.domain, disk.address.bus, disk.address.slot,
            disk.address.function))
        guest = guest_config.Guest.parse_str(_guest().to_xml())
        self.assertEqual((131072, 2, 3, [1, 2, 5]), (
            guest.memory_kib, guest.vcpus, guest.iothreads,
            guest.iothread_ids))
        self.assertEqual('web <1> & "db"',
                         guest.instance_metadata().display_name)
        self.assertEqual([], guest.extra)
        self.assertIsNone(disk_config.Disk.parse_str(
            _empty_cdrom().to_xml()).backing)

    def test_wrong_element(self):
        self.assertRaises(ValueError, disk_config.Disk.parse_str,
                          '<controller type="sata"/>')
        self.assertRaises(ValueError, guest_config.Guest.parse_str,
                          'not xml')

    def test_golden_files_read_back(self):
        for name in sorted(os.listdir(GOLDEN)):
            with open(os.path.join(GOLDEN, name)) as f:
                xml = f.read()
            self.assertEqual(
                utils.canonical(xml),
                utils.canonical(guest_config.Guest.parse_str(xml).to_xml()),
                name)


class TestReadingLibvirt(base.TestCase):
    """What libvirt stores and returns, read through the objects."""

    def setUp(self):
        super().setUp()
        self.libvirt = self.useFixture(testdriver.TestDriver())

    def test_what_libvirt_adds_is_kept(self):
        dom = self.libvirt.define(_guest().to_xml())
        stored = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        guest = guest_config.Guest.parse_str(stored)
        self.assertEqual(
            [e.tag for e in ElementTree.fromstring(stored).find('devices')
             if e.tag != 'emulator'],
            [d.format_dom().tag for d in guest.devices])
        self.assertEqual('instance-x', guest.name)
        self.assertEqual('web <1> & "db"',
                         guest.instance_metadata().display_name)
        self.assertEqual('/i/disk', guest.disk('vda').source_path)
        self.assertEqual([('/i/base', 'qcow2'), ('/b/root', 'raw')],
                         guest.disk('vda').backing)
        self.assertIsNone(guest.disk('vdz'))
        # Every device libvirt stored goes back to it with all its
        # elements (those without fields last) and the attributes that
        # have fields.
        stored_devices = [e for e in ElementTree.fromstring(
            stored).find('devices') if e.tag != 'emulator']
        for stored_device, device in zip(stored_devices, guest.devices):
            formatted = device.format_dom()
            self.assertEqual(_shape(stored_device), _shape(formatted))
            for key, value in formatted.attrib.items():
                self.assertEqual(stored_device.get(key), value)

    def test_disk_keeps_what_it_has_no_field_for(self):
        disk = disk_config.Disk.parse_str("""
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='/i/disk.vdb.snapshot' index='2'/>
              <backingStore type='file' index='3'>
                <format type='raw'/>
                <source file='/i/disk.vdb'/>
                <backingStore/>
              </backingStore>
              <mirror type='file' job='active-commit' ready='yes'>
                <format type='raw'/><source file='/i/disk.vdb'/>
              </mirror>
              <target dev='vdb' bus='usb'/>
              <alias name='usb-disk1'/>
              <address type='usb' bus='0' port='1'/>
            </disk>""")
        self.assertEqual(('/i/disk.vdb.snapshot', [('/i/disk.vdb', 'raw')]),
                         (disk.source_path, disk.backing))
        self.assertIsNone(disk.address)
        self.assertEqual(['mirror', 'alias', 'address'],
                         [e.tag for e in disk.extra])
        # What libvirt's device-removed event names it by.
        self.assertEqual('usb-disk1', disk.alias)
        self.assertIsNone(disk_config.Disk.parse_str(
            "<disk type='file'><target dev='vdb'/></disk>").alias)
        self.assertEqual(['mirror', 'alias', 'address'],
                         [e.tag for e in disk.format_dom()][-3:])
        self.assertEqual(['/i/disk.vdb.snapshot', '/i/disk.vdb',
                          '/i/disk.vdb'], disk.named_files())

    def test_unmodelled_sources_are_kept_whole(self):
        guest = guest_config.Guest.parse_str("""
            <domain type='qemu'><name>x</name>
              <devices>
                <disk type='network' device='disk'>
                  <source protocol='nbd' name='x'><host name='h'/></source>
                  <target dev='vdc' bus='virtio'/>
                </disk>
                <serial type='pty'><source path='/dev/pts/3'/>
                  <target port='0'/></serial>
                <interface type='vhostuser'>
                  <source type='unix' path='/s/vhost.sock' mode='server'/>
                </interface>
                <channel type='unix'>
                  <source mode='bind' path='/c/agent.sock'/>
                </channel>
              </devices>
              <seclabel type='dynamic'/>
            </domain>""")
        self.assertIsNone(guest.disk('vdc').source_path)
        self.assertEqual(['source'], [e.tag for e in guest.disk('vdc').extra])
        self.assertIsInstance(guest.devices[3], config_base.Unparsed)
        self.assertEqual(['seclabel'], [e.tag for e in guest.extra])
        self.assertEqual(['/dev/pts/3', '/s/vhost.sock', '/c/agent.sock'],
                         guest.named_files())

    def test_named_files(self):
        guest = _guest()
        guest.add_device(_chardev(device_config.Serial, 'unix',
                                  source_mode='bind',
                                  source_path='/i/serial1.sock',
                                  log_file='/i/console.1.log',
                                  target_port=1))
        self.assertEqual(['/i/disk', '/i/base', '/b/root', '/i/console.log',
                          '/i/console.log', '/i/serial1.sock',
                          '/i/console.1.log'], guest.named_files())
        # A block device's <source dev=...> is not a file.
        self.assertEqual([], _block_disk().named_files())

    def test_capabilities(self):
        self.assertEqual('i686', caps_config.Capabilities.parse_str(
            self.libvirt.conn.getCapabilities()).host_arch)
