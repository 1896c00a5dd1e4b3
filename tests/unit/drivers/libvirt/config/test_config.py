"""XML-equality tests of the configuration objects, one per element.

Each device is also defined on libvirt's test driver inside a minimal
domain, so the expected XML is known to be what libvirt accepts.
"""

from xml.etree import ElementTree

from computeagent.objects import spec as spec_obj
from computeagent_libvirt.config import devices as device_config
from computeagent_libvirt.config import disks as disk_config
from computeagent_libvirt.config import guest as guest_config
from tests import base
from tests.unit.drivers.libvirt import testdriver
from tests.unit.drivers.libvirt import utils


class ConfigTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.libvirt = self.useFixture(testdriver.TestDriver())

    def assertXmlEqual(self, expected, actual):
        self.assertEqual(utils.canonical(expected), utils.canonical(actual))

    def assertDeviceAccepted(self, *devices):
        guest = guest_config.Guest()
        guest.name = self.getUniqueString()
        guest.memory_kib = 65536
        guest.os_machine = 'pc'
        for device in devices:
            guest.add_device(device)
        self.libvirt.define(guest.to_xml())

    def check_device(self, device, expected):
        self.assertXmlEqual(expected, device.to_xml())
        self.assertIsInstance(device.format_dom(), ElementTree.Element)
        self.assertDeviceAccepted(device)


class TestGuest(ConfigTestCase):

    def _guest(self):
        guest = guest_config.Guest()
        guest.virt_type = 'qemu'
        guest.name = 'instance-x'
        guest.uuid = utils.UUID
        guest.memory_kib = 131072
        guest.vcpus = 2
        guest.os_machine = 'pc'
        return guest

    def test_minimal(self):
        guest = self._guest()
        self.assertXmlEqual("""
            <domain type='qemu'>
              <name>instance-x</name>
              <uuid>%s</uuid>
              <memory unit='KiB'>131072</memory>
              <vcpu>2</vcpu>
              <os><type machine='pc'>hvm</type></os>
              <features><acpi/><apic/></features>
              <clock offset='utc'/>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>restart</on_reboot>
              <on_crash>destroy</on_crash>
              <devices/>
            </domain>""" % utils.UUID, guest.to_xml())
        self.libvirt.define(guest.to_xml())

    def test_everything(self):
        guest = self._guest()
        guest.virt_type = 'kvm'
        guest.iothreads = 3
        guest.os_arch = 'i686'
        guest.os_bootmenu = True
        guest.emulator = '/usr/bin/qemu-system-x86_64'
        guest.on_crash = 'restart'
        guest.metadata.append(guest_config.InstanceMetadata('web <1> & "db"'))
        guest.add_device(device_config.MemBalloon('none'))
        expected = """
            <domain type='kvm'>
              <name>instance-x</name>
              <uuid>%s</uuid>
              <metadata>
                <computeagent:instance xmlns:computeagent='%s'>
                  <computeagent:name>
                    web &lt;1&gt; &amp; "db"
                  </computeagent:name>
                </computeagent:instance>
              </metadata>
              <memory unit='KiB'>131072</memory>
              <vcpu>2</vcpu>
              <iothreads>3</iothreads>
              <os>
                <type arch='i686' machine='pc'>hvm</type>
                <bootmenu enable='yes'/>
              </os>
              <features><acpi/><apic/></features>
              <clock offset='utc'/>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>restart</on_reboot>
              <on_crash>restart</on_crash>
              <devices>
                <emulator>/usr/bin/qemu-system-x86_64</emulator>
                <memballoon model='none'/>
              </devices>
            </domain>""" % (utils.UUID, guest_config.METADATA_NS)
        self.assertXmlEqual(expected, guest.to_xml())
        dom = self.libvirt.define_and_read_back(guest.to_xml())
        # libvirt keeps our metadata element and its namespace.
        name = dom.find('metadata/{%s}instance/{%s}name' %
                        (guest_config.METADATA_NS, guest_config.METADATA_NS))
        self.assertEqual('web <1> & "db"', name.text)

    def test_bootmenu_disabled(self):
        guest = self._guest()
        guest.os_bootmenu = False
        os_elem = guest.format_dom().find('os')
        self.assertEqual('no', os_elem.find('bootmenu').get('enable'))

    def test_to_xml_not_pretty(self):
        guest = self._guest()
        self.assertNotIn('\n', guest.to_xml(pretty=False))
        self.assertXmlEqual(guest.to_xml(), guest.to_xml(pretty=False))


class TestDisk(ConfigTestCase):

    def _disk(self):
        disk = disk_config.Disk()
        disk.driver_format = 'qcow2'
        disk.source_path = '/i/disk'
        disk.target_dev = 'vda'
        disk.target_bus = 'virtio'
        return disk

    def test_minimal(self):
        self.check_device(self._disk(), """
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='/i/disk'/>
              <target dev='vda' bus='virtio'/>
            </disk>""")

    def test_all_fields(self):
        disk = self._disk()
        disk.driver_cache = 'none'
        disk.driver_io = 'native'
        disk.driver_discard = 'unmap'
        disk.driver_iothread = 1
        disk.backing = [('/i/base', 'qcow2'), ('/b/root', 'raw')]
        disk.iotune = {'total_bytes_sec': 0, 'read_iops_sec': 4,
                       'write_iops_sec': 5}
        disk.readonly = True
        disk.serial = 'SER-1'
        disk.boot_order = 2
        disk.address = disk_config.PciAddress(slot=7)
        disk.snapshot = True
        self.check_device(disk, """
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2' cache='none' io='native'
                      discard='unmap' iothread='1'/>
              <source file='/i/disk'/>
              <backingStore type='file'>
                <format type='qcow2'/>
                <source file='/i/base'/>
                <backingStore type='file'>
                  <format type='raw'/>
                  <source file='/b/root'/>
                  <backingStore/>
                </backingStore>
              </backingStore>
              <target dev='vda' bus='virtio'/>
              <iotune>
                <total_bytes_sec>0</total_bytes_sec>
                <read_iops_sec>4</read_iops_sec>
                <write_iops_sec>5</write_iops_sec>
              </iotune>
              <readonly/>
              <serial>SER-1</serial>
              <boot order='2'/>
              <address type='pci' domain='0x0000' bus='0x00' slot='0x07'
                       function='0x0'/>
            </disk>""")

    def test_empty_backing_chain_says_self_contained(self):
        disk = self._disk()
        disk.driver_format = 'raw'
        disk.backing = []
        self.check_device(disk, """
            <disk type='file' device='disk'>
              <driver name='qemu' type='raw'/>
              <source file='/i/disk'/>
              <backingStore/>
              <target dev='vda' bus='virtio'/>
            </disk>""")

    def test_block(self):
        disk = self._disk()
        disk.source_type = 'block'
        disk.source_path = '/dev/sdz'
        disk.driver_format = 'raw'
        disk.target_dev = 'sda'
        disk.target_bus = 'sata'
        disk.address = disk_config.DriveAddress(unit=0)
        self.check_device(disk, """
            <disk type='block' device='disk'>
              <driver name='qemu' type='raw'/>
              <source dev='/dev/sdz'/>
              <target dev='sda' bus='sata'/>
              <address type='drive' controller='0' bus='0' target='0'
                       unit='0'/>
            </disk>""")

    def test_empty_cdrom(self):
        disk = disk_config.Disk()
        disk.device = 'cdrom'
        disk.driver_format = 'raw'
        disk.backing = [('/never', 'raw')]
        disk.target_dev = 'hda'
        disk.target_bus = 'ide'
        disk.readonly = True
        self.check_device(disk, """
            <disk type='file' device='cdrom'>
              <driver name='qemu' type='raw'/>
              <target dev='hda' bus='ide'/>
              <readonly/>
            </disk>""")

    def test_iotune_subset(self):
        disk = self._disk()
        disk.iotune = {'write_iops_sec': 10, 'read_bytes_sec': 1024}
        iotune = disk.format_dom().find('iotune')
        self.assertEqual(['read_bytes_sec', 'write_iops_sec'],
                         [child.tag for child in iotune])
        self.assertDeviceAccepted(disk)

    def test_iotune_all_six_keys(self):
        # Rendering only: libvirt refuses a total limit together with a
        # read/write one of the same kind (the designer refuses it first).
        disk = self._disk()
        disk.iotune = {key: n for n, key in
                       enumerate(spec_obj.IOTUNE_KEYS)}
        iotune = disk.format_dom().find('iotune')
        self.assertEqual(
            [(key, str(n)) for n, key in enumerate(spec_obj.IOTUNE_KEYS)],
            [(child.tag, child.text) for child in iotune])

    def test_controller(self):
        self.check_device(
            disk_config.Controller('scsi', index=0, model='virtio-scsi'),
            "<controller type='scsi' index='0' model='virtio-scsi'/>")


class TestCharDevices(ConfigTestCase):

    def test_serial_file(self):
        dev = device_config.Serial()
        dev.type = 'file'
        dev.source_path = '/i/console.log'
        dev.source_append = True
        dev.target_port = 0
        self.check_device(dev, """
            <serial type='file'>
              <source path='/i/console.log' append='on'/>
              <target port='0'/>
            </serial>""")

    def test_serial_pty_with_log(self):
        dev = device_config.Serial()
        dev.type = 'pty'
        dev.log_file = '/i/console.1.log'
        dev.log_append = True
        dev.target_port = 1
        self.check_device(dev, """
            <serial type='pty'>
              <log file='/i/console.1.log' append='on'/>
              <target port='1'/>
            </serial>""")

    def test_serial_pty_without_log(self):
        dev = device_config.Serial()
        dev.target_port = 0
        self.check_device(dev, """
            <serial type='pty'><target port='0'/></serial>""")

    def test_serial_unix(self):
        dev = device_config.Serial()
        dev.type = 'unix'
        dev.source_mode = 'bind'
        dev.source_path = '/i/serial2.sock'
        dev.log_file = '/i/console.2.log'
        dev.log_append = False
        dev.target_port = 2
        self.check_device(dev, """
            <serial type='unix'>
              <source mode='bind' path='/i/serial2.sock'/>
              <log file='/i/console.2.log' append='off'/>
              <target port='2'/>
            </serial>""")

    def test_serial_tcp(self):
        dev = device_config.Serial()
        dev.type = 'tcp'
        dev.source_mode = 'bind'
        dev.source_host = '127.0.0.1'
        dev.source_service = '4555'
        dev.protocol = 'raw'
        dev.target_port = 3
        self.check_device(dev, """
            <serial type='tcp'>
              <source mode='bind' host='127.0.0.1' service='4555'/>
              <protocol type='raw'/>
              <target port='3'/>
            </serial>""")

    def test_serial_null(self):
        dev = device_config.Serial()
        dev.type = 'null'
        dev.source_path = '/ignored'
        dev.target_port = 1
        self.check_device(dev, """
            <serial type='null'><target port='1'/></serial>""")

    def test_console(self):
        dev = device_config.Console()
        dev.type = 'file'
        dev.source_path = '/i/console.log'
        dev.source_append = True
        dev.target_type = 'serial'
        dev.target_port = 0
        self.check_device(dev, """
            <console type='file'>
              <source path='/i/console.log' append='on'/>
              <target type='serial' port='0'/>
            </console>""")


class TestOtherDevices(ConfigTestCase):

    def test_video(self):
        for model in ('none', 'vga', 'cirrus', 'virtio'):
            self.check_device(device_config.Video(model),
                              "<video><model type='%s'/></video>" % model)

    def test_graphics_vnc(self):
        self.check_device(
            device_config.Graphics('vnc', listen='127.0.0.1'), """
            <graphics type='vnc' autoport='yes'>
              <listen type='address' address='127.0.0.1'/>
            </graphics>""")

    def test_graphics_fixed_port(self):
        self.check_device(
            device_config.Graphics('vnc', autoport=False, port=5901),
            "<graphics type='vnc' port='5901' autoport='no'/>")

    def test_interface_user(self):
        iface = device_config.Interface()
        iface.mac = '52:54:00:00:00:01'
        iface.model = 'virtio'
        iface.boot_order = 3
        self.check_device(iface, """
            <interface type='user'>
              <mac address='52:54:00:00:00:01'/>
              <model type='virtio'/>
              <boot order='3'/>
            </interface>""")

    def test_interface_network(self):
        iface = device_config.Interface()
        iface.type = 'network'
        iface.source_network = 'default'
        iface.model = 'e1000'
        self.check_device(iface, """
            <interface type='network'>
              <source network='default'/>
              <model type='e1000'/>
            </interface>""")

    def test_interface_bridge(self):
        iface = device_config.Interface()
        iface.type = 'bridge'
        iface.mac = '52:54:00:00:00:02'
        iface.source_bridge = 'br0'
        iface.model = 'rtl8139'
        self.check_device(iface, """
            <interface type='bridge'>
              <mac address='52:54:00:00:00:02'/>
              <source bridge='br0'/>
              <model type='rtl8139'/>
            </interface>""")

    def test_memballoon(self):
        self.check_device(device_config.MemBalloon('none'),
                          "<memballoon model='none'/>")
