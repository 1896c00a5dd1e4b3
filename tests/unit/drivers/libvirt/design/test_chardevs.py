"""Serial port decisions: backends, file names, logs, the console."""

import os

from computeagent_libvirt.design import guest as designer
from tests.unit.drivers.libvirt.design import base as designer_base
from tests.unit.drivers.libvirt import utils


class TestSerialPorts(designer_base.DesignerTestCase):

    def setUp(self):
        super().setUp()
        self.idir = os.path.join(self.tmp, 'instances', utils.UUID)

    def _design(self, *ports):
        spec = utils.make_spec(serial_ports=list(ports))
        return self.design(spec)

    def _serials(self, dom):
        return dom.findall('devices/serial')

    def test_file_port_0_is_console_log(self):
        guest, dom = self._design(utils.make_serial('file'))
        serial, = self._serials(dom)
        self.assertEqual('file', serial.get('type'))
        self.assertEqual(
            {'path': os.path.join(self.idir, 'console.log'),
             'append': 'on'}, serial.find('source').attrib)
        self.assertEqual({'port': '0'}, serial.find('target').attrib)
        self.assertIsNone(serial.find('log'))

    def test_file_port_n(self):
        guest, dom = self._design(utils.make_serial('null'),
                                  utils.make_serial('null'),
                                  utils.make_serial('file'))
        serial = self._serials(dom)[2]
        self.assertEqual(os.path.join(self.idir, 'console.2.log'),
                         serial.find('source').get('path'))
        self.assertEqual('2', serial.find('target').get('port'))

    def test_pty(self):
        guest, dom = self._design(utils.make_serial('pty'),
                                  utils.make_serial('pty', log=True))
        plain, logged = self._serials(dom)
        self.assertEqual('pty', plain.get('type'))
        self.assertIsNone(plain.find('source'))
        self.assertIsNone(plain.find('log'))
        self.assertEqual(
            {'file': os.path.join(self.idir, 'console.1.log'),
             'append': 'on'}, logged.find('log').attrib)

    def test_pty_log_on_port_0_is_console_log(self):
        guest, dom = self._design(utils.make_serial('pty', log=True))
        self.assertEqual(os.path.join(self.idir, 'console.log'),
                         self._serials(dom)[0].find('log').get('file'))
        self.assertEqual(os.path.join(self.idir, 'console.log'),
                         designer.console_log(guest))

    def test_unix(self):
        guest, dom = self._design(utils.make_serial('file'),
                                  utils.make_serial('unix', log=True),
                                  utils.make_serial('unix'))
        logged, plain = self._serials(dom)[1:]
        self.assertEqual(
            {'mode': 'bind',
             'path': os.path.join(self.idir, 'serial1.sock')},
            logged.find('source').attrib)
        self.assertEqual(os.path.join(self.idir, 'console.1.log'),
                         logged.find('log').get('file'))
        self.assertEqual(os.path.join(self.idir, 'serial2.sock'),
                         plain.find('source').get('path'))
        self.assertIsNone(plain.find('log'))

    def test_tcp(self):
        guest, dom = self._design(
            utils.make_serial('tcp', port=4555),
            utils.make_serial('tcp', host='::1', port=4556, log=True))
        first, second = self._serials(dom)
        self.assertEqual(
            {'mode': 'bind', 'host': '127.0.0.1', 'service': '4555'},
            first.find('source').attrib)
        self.assertEqual('raw', first.find('protocol').get('type'))
        self.assertIsNone(first.find('log'))
        self.assertEqual('::1', second.find('source').get('host'))
        self.assertEqual(os.path.join(self.idir, 'console.1.log'),
                         second.find('log').get('file'))

    def test_null(self):
        guest, dom = self._design(utils.make_serial('null'))
        serial, = self._serials(dom)
        self.assertEqual('null', serial.get('type'))
        self.assertEqual(['target'], [child.tag for child in serial])
        self.assertIsNone(designer.console_log(guest))

    def test_console_mirrors_port_0(self):
        for port0 in (utils.make_serial('file'),
                      utils.make_serial('pty', log=True),
                      utils.make_serial('unix'),
                      utils.make_serial('tcp', port=4000),
                      utils.make_serial('null')):
            guest, dom = self._design(port0, utils.make_serial('pty'))
            console, = dom.findall('devices/console')
            serial = self._serials(dom)[0]
            self.assertEqual(serial.get('type'), console.get('type'))
            self.assertEqual(
                [(c.tag, c.attrib) for c in serial if c.tag != 'target'],
                [(c.tag, c.attrib) for c in console if c.tag != 'target'])
            self.assertEqual({'type': 'serial', 'port': '0'},
                             console.find('target').attrib)

    def test_no_serial_ports_no_console(self):
        guest, dom = self._design()
        self.assertEqual([], self._serials(dom))
        self.assertEqual([], dom.findall('devices/console'))
        self.assertIsNone(designer.console_log(guest))

    def test_describe_serial_ports(self):
        guest, dom = self._design(utils.make_serial('file'),
                                  utils.make_serial('unix', log=True),
                                  utils.make_serial('tcp', port=4000),
                                  utils.make_serial('pty'))
        unbound = {'bind_host': None, 'bind_port': None}
        self.assertEqual([dict(port, **unbound) for port in [
            {'index': 0, 'type': 'file',
             'path': os.path.join(self.idir, 'console.log'),
             'log_file': os.path.join(self.idir, 'console.log'),
             'host': None, 'port': None},
            {'index': 1, 'type': 'unix',
             'path': os.path.join(self.idir, 'serial1.sock'),
             'log_file': os.path.join(self.idir, 'console.1.log'),
             'host': None, 'port': None},
            {'index': 2, 'type': 'tcp', 'path': None, 'log_file': None,
             'host': '127.0.0.1', 'port': 4000},
            {'index': 3, 'type': 'pty', 'path': None, 'log_file': None,
             'host': None, 'port': None},
        ]], [port.to_dict() for port in designer.describe_serial_ports(guest)])
        self.assertEqual(os.path.join(self.idir, 'console.log'),
                         designer.console_log(guest))
