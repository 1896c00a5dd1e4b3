"""Serial and parallel port decisions: backends, files, logs, console."""

import os

from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt.design import chardevs as chardev_design
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

    def test_udp(self):
        guest, dom = self._design(
            utils.make_serial('udp', port=5000),
            utils.make_serial('udp', host='::1', port=5001, bind_port=6001,
                              log=True))
        first, second = self._serials(dom)
        self.assertEqual(
            [{'mode': 'bind', 'host': '127.0.0.1'},
             {'mode': 'connect', 'host': '127.0.0.1', 'service': '5000'}],
            [source.attrib for source in first.findall('source')])
        self.assertIsNone(first.find('log'))
        self.assertEqual(
            [{'mode': 'bind', 'host': '::1', 'service': '6001'},
             {'mode': 'connect', 'host': '::1', 'service': '5001'}],
            [source.attrib for source in second.findall('source')])
        self.assertEqual(os.path.join(self.idir, 'console.1.log'),
                         second.find('log').get('file'))
        unbound = {'path': None, 'log_file': None}
        self.assertEqual(
            [dict(unbound, index=0, type='udp', host='127.0.0.1',
                  port=5000, bind_host='127.0.0.1', bind_port=None),
             dict(unbound, index=1, type='udp', host='::1', port=5001,
                  bind_host='::1', bind_port=6001,
                  log_file=os.path.join(self.idir, 'console.1.log'))],
            [port.to_dict()
             for port in designer.describe_serial_ports(guest)])

    def test_udp_to_another_host_binds_where_the_system_chooses(self):
        self.flags(udp_allowed_hosts=['192.0.2.9'], group='serial')
        guest, dom = self._design(utils.make_serial(
            'udp', host='192.0.2.9', port=514, bind_host=None))
        serial, = self._serials(dom)
        self.assertEqual(
            [{'mode': 'connect', 'host': '192.0.2.9', 'service': '514'}],
            [source.attrib for source in serial.findall('source')])

    def test_pipe(self):
        guest, dom = self._design(utils.make_serial('pipe'),
                                  utils.make_serial('pipe', log=True))
        plain, logged = self._serials(dom)
        self.assertEqual({'path': os.path.join(self.idir, 'serial0')},
                         plain.find('source').attrib)
        self.assertIsNone(plain.find('log'))
        self.assertEqual(os.path.join(self.idir, 'serial1'),
                         logged.find('source').get('path'))
        self.assertEqual(os.path.join(self.idir, 'console.1.log'),
                         logged.find('log').get('file'))
        # Port 0 is the console: a pipe console has no log to read.
        self.assertIsNone(designer.console_log(guest))
        self.assertEqual(
            [os.path.join(self.idir, name) for name in (
                'serial0.in', 'serial0.out', 'serial1.in', 'serial1.out')],
            chardev_design.pipe_fifos(utils.make_spec(serial_ports=[
                utils.make_serial('pipe'), utils.make_serial('pipe',
                                                             log=True)]),
                self.idir))

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
                      utils.make_serial('udp', port=4000),
                      utils.make_serial('pipe'),
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


class TestParallelPorts(designer_base.DesignerTestCase):

    def setUp(self):
        super().setUp()
        self.idir = os.path.join(self.tmp, 'instances', utils.UUID)

    def _design(self, *ports, serial_ports=()):
        spec = utils.make_spec(serial_ports=list(serial_ports),
                               parallel_ports=list(ports))
        return self.design(spec)

    def test_no_parallel_ports_by_default(self):
        guest, dom = self.design()
        self.assertEqual([], dom.findall('devices/parallel'))
        self.assertEqual((), designer.describe_parallel_ports(guest))

    def test_every_type_libvirt_accepts(self):
        # Defined on the test driver by design(): libvirt's parser takes
        # each backend on a <parallel>.
        for kinds in (('file', 'pty', 'unix'), ('tcp', 'udp', 'pipe'),
                      ('null',)):
            ports = [utils.make_serial(kind, port=4000 + i)
                     if kind in ('tcp', 'udp') else utils.make_serial(kind)
                     for i, kind in enumerate(kinds)]
            guest, dom = self._design(*ports)
            parallels = dom.findall('devices/parallel')
            self.assertEqual(list(kinds),
                             [p.get('type') for p in parallels])
            self.assertEqual([str(i) for i in range(len(kinds))],
                             [p.find('target').get('port')
                              for p in parallels])

    def test_files_are_named_for_parallel_ports(self):
        guest, dom = self._design(
            utils.make_serial('file'), utils.make_serial('unix', log=True),
            utils.make_serial('pipe'),
            serial_ports=[utils.make_serial('file')])
        file_, unix, pipe = dom.findall('devices/parallel')
        self.assertEqual(
            {'path': os.path.join(self.idir, 'parallel0.log'),
             'append': 'on'}, file_.find('source').attrib)
        self.assertEqual(
            {'mode': 'bind',
             'path': os.path.join(self.idir, 'parallel1.sock')},
            unix.find('source').attrib)
        self.assertEqual(
            {'file': os.path.join(self.idir, 'parallel1.log'),
             'append': 'on'}, unix.find('log').attrib)
        self.assertEqual({'path': os.path.join(self.idir, 'parallel2')},
                         pipe.find('source').attrib)
        # The console stays serial port 0's.
        self.assertEqual(os.path.join(self.idir, 'console.log'),
                         designer.console_log(guest))
        self.assertEqual(1, len(dom.findall('devices/console')))
        unbound = {'host': None, 'port': None, 'bind_host': None,
                   'bind_port': None}
        self.assertEqual([
            dict(unbound, index=0, type='file',
                 path=os.path.join(self.idir, 'parallel0.log'),
                 log_file=os.path.join(self.idir, 'parallel0.log')),
            dict(unbound, index=1, type='unix',
                 path=os.path.join(self.idir, 'parallel1.sock'),
                 log_file=os.path.join(self.idir, 'parallel1.log')),
            dict(unbound, index=2, type='pipe',
                 path=os.path.join(self.idir, 'parallel2'),
                 log_file=None),
        ], [port.to_dict()
            for port in designer.describe_parallel_ports(guest)])
        self.assertEqual(
            [os.path.join(self.idir, 'parallel2.in'),
             os.path.join(self.idir, 'parallel2.out')],
            chardev_design.pipe_fifos(utils.make_spec(
                serial_ports=[utils.make_serial('file')],
                parallel_ports=[utils.make_serial('file'),
                                utils.make_serial('unix', log=True),
                                utils.make_serial('pipe')]), self.idir))

    def test_domain_xml_read_back_keeps_the_ports(self):
        guest, dom = self._design(utils.make_serial('udp', port=5000),
                                  serial_ports=[utils.make_serial('pipe')])
        dom = self.libvirt.define(guest.to_xml())
        try:
            read = guest_config.Guest.parse_str(dom.XMLDesc(0))
        finally:
            dom.undefine()
        self.assertEqual(designer.describe_parallel_ports(guest),
                         designer.describe_parallel_ports(read))
        self.assertEqual(designer.describe_serial_ports(guest),
                         designer.describe_serial_ports(read))
