"""Where a console joins a serial port, from libvirt's live XML.

The domain runs on libvirt's test driver, which keeps unix and tcp
sources but allocates no pty; the live XML of a pty port as QEMU's
libvirt writes it is parsed by the config objects.
"""

from computeagent import exception
from computeagent.objects import console
from computeagent_libvirt.config import devices
from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt import console_ops
from computeagent_libvirt import domain
from computeagent_libvirt import host as host_mod
from tests import base
from tests.unit.drivers.libvirt import testdriver
from tests.unit.drivers.libvirt import utils

DOMAIN = """<domain type='qemu'>
  <name>instance-console</name>
  <uuid>%s</uuid>
  <memory>65536</memory>
  <os><type arch='i686'>hvm</type></os>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <serial type='unix'>
      <source mode='bind' path='/i/serial1.sock'/><target port='1'/>
    </serial>
    <serial type='tcp'>
      <source mode='bind' host='127.0.0.1' service='4555'/>
      <protocol type='raw'/><target port='2'/>
    </serial>
  </devices>
</domain>""" % utils.UUID

LIVE_PTY = """<serial type='pty'>
  <source path='/dev/pts/7'/>
  <log file='/i/console.log' append='on'/>
  <target type='isa-serial' port='0'><model name='isa-serial'/></target>
  <alias name='serial0'/>
</serial>"""


class TestSerialConsole(base.TestCase):

    def setUp(self):
        super().setUp()
        driver = self.useFixture(testdriver.TestDriver())
        self.host = host_mod.Host(driver.uri)
        self.addCleanup(self.host.close)
        domain.define(self.host, DOMAIN).start()

    def test_unix_and_tcp_ports(self):
        self.assertEqual(
            console.ConsoleTarget(kind='unix', path='/i/serial1.sock'),
            console_ops.serial_console(self.host, utils.UUID, 1))
        self.assertEqual(
            console.ConsoleTarget(kind='tcp', host='127.0.0.1', port=4555),
            console_ops.serial_console(self.host, utils.UUID, 2))

    def test_a_pty_without_its_device(self):
        error = self.assertRaises(exception.DriverError,
                                  console_ops.serial_console, self.host,
                                  utils.UUID, 0)
        self.assertIn('serial port 0 of %s is a pty chardev without a '
                      'host end' % utils.UUID, str(error))

    def test_a_port_the_live_domain_lacks(self):
        error = self.assertRaises(exception.DriverError,
                                  console_ops.serial_console, self.host,
                                  utils.UUID, 3)
        self.assertIn('has no serial port 3', str(error))


class TestLivePty(base.TestCase):

    def test_the_pty_device_is_read_and_written_back(self):
        serial = devices.Serial.parse_str(LIVE_PTY)
        self.assertEqual(('pty', '/dev/pts/7', 0),
                         (serial.type, serial.source_path,
                          serial.target_port))
        self.assertIn("<source path=\"/dev/pts/7\" />",
                      serial.to_xml().replace("'", '"'))
        guest = guest_config.Guest.parse_str(
            DOMAIN.replace("<serial type='pty'><target port='0'/></serial>",
                           LIVE_PTY))
        self.assertEqual(['/dev/pts/7', '/i/serial1.sock', None],
                         [s.source_path
                          for s in guest.find_devices(devices.Serial)])
