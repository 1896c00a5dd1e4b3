"""Tests of the file names of a compute node (computeagent.virt.layout)."""

import os

import fixtures

from computeagent import exception
from computeagent.objects import spec as spec_obj
from computeagent.virt import layout
from tests import base

UUID = 'abcdef01-2345-4678-89ab-cdef01234567'


class TestUuids(base.TestCase):

    def test_canonical_uuid(self):
        self.assertEqual(UUID, layout.canonical_uuid(UUID))
        self.assertEqual(UUID, layout.canonical_uuid(UUID.upper()))
        self.assertEqual(UUID, layout.canonical_uuid(UUID.replace('-', '')))
        for bad in ('', 'x', UUID + 'a', None, 1, [UUID], b'x'):
            self.assertIsNone(layout.canonical_uuid(bad), repr(bad))

    def test_is_uuid_only_in_canonical_form(self):
        self.assertTrue(layout.is_uuid(UUID))
        for bad in (UUID.upper(), '{%s}' % UUID, 'urn:uuid:' + UUID,
                    UUID.replace('-', ''), '_base', '..', '', None, 7):
            self.assertFalse(layout.is_uuid(bad), repr(bad))

    def test_instance_dir(self):
        self.assertEqual(os.path.join(self.conf.instances_path, UUID),
                         layout.instance_dir(self.conf.instances_path, UUID))

    def test_instance_dir_is_absolute(self):
        self.useFixture(fixtures.MonkeyPatch('os.getcwd', lambda: '/srv'))
        self.assertEqual('/srv/instances/' + UUID,
                         layout.instance_dir('instances', UUID))

    def test_instance_dir_is_never_another_path(self):
        for bad in ('../x', UUID.upper(), UUID + '/..', '/', '', None):
            error = self.assertRaises(exception.InvalidSpec,
                                      layout.instance_dir, '/i', bad)
            self.assertEqual('uuid', error.field)


class TestFiles(base.TestCase):

    def test_disk_files(self):
        self.assertEqual('/d/disk', layout.disk_file('/d', 0, 'vda'))
        self.assertEqual('/d/disk', layout.disk_file('/d', 0, 'sdb'))
        self.assertEqual('/d/disk.vdb', layout.disk_file('/d', 1, 'vdb'))
        self.assertEqual('/d/disk.vdb.snapshot',
                         layout.snapshot_file('/d', 'vdb'))

    def test_a_target_is_never_a_path(self):
        for bad in ('../../x', 'vd/a', '', None, 'v', 'vda\n', 'VDA'):
            for call in (lambda: layout.disk_file('/d', 1, bad),
                         lambda: layout.disk_file('/d', 0, bad),
                         lambda: layout.snapshot_file('/d', bad)):
                error = self.assertRaises(exception.InvalidSpec, call)
                self.assertEqual('target', error.field)

    def test_every_name_made_is_an_instance_file(self):
        names = [os.path.basename(path) for path in (
            layout.disk_file('/d', 0, 'vda'),
            layout.disk_file('/d', 3, 'sdab'),
            layout.snapshot_file('/d', 'vdb'),
            layout.console_log('/d', 0), layout.console_log('/d', 3),
            layout.serial_socket('/d', 2),
            layout.port_log('/d', layout.PARALLEL, 1),
            layout.port_socket('/d', layout.PARALLEL, 2)) +
            layout.pipe_fifos(layout.port_pipe('/d', layout.SERIAL, 1)) +
            layout.pipe_fifos(layout.port_pipe('/d', layout.PARALLEL, 0))]
        self.assertEqual(['disk', 'disk.sdab', 'disk.vdb.snapshot',
                          'console.log', 'console.3.log', 'serial2.sock',
                          'parallel1.log', 'parallel2.sock',
                          'serial1.in', 'serial1.out',
                          'parallel0.in', 'parallel0.out'],
                         names)
        for name in names + ['console.log.0', 'console.1.log.2',
                             'parallel0.log.1']:
            self.assertTrue(layout.is_instance_file(name), name)
        # A pipe port's base name is no file of its own.
        for name in ('instance.json', 'disk.vda.bak', 'disk.v', 'x',
                     'console.log\n', 'serial0', 'parallel0',
                     'parallel.log', 'serial0.log', 'serial0.in.x'):
            self.assertFalse(layout.is_instance_file(name), name)


class TestSerialFiles(base.TestCase):

    def files(self, kind, index=0, log=False):
        return layout.serial_files('/d', index, spec_obj.SerialPortSpec(
            type=kind, log=log))

    def test_a_file_port_writes_its_log(self):
        self.assertEqual({'path': '/d/console.log',
                          'log_file': '/d/console.log'},
                         self.files('file'))
        self.assertEqual({'path': '/d/console.2.log',
                          'log_file': '/d/console.2.log'},
                         self.files('file', 2))

    def test_a_unix_port_has_its_socket(self):
        self.assertEqual({'path': '/d/serial1.sock', 'log_file': None},
                         self.files('unix', 1))
        self.assertEqual({'path': '/d/serial1.sock',
                          'log_file': '/d/console.1.log'},
                         self.files('unix', 1, log=True))

    def test_pty_and_tcp_log_only_if_asked(self):
        for kind in ('pty', 'tcp'):
            self.assertEqual({'path': None, 'log_file': None},
                             self.files(kind))
            self.assertEqual({'path': None, 'log_file': '/d/console.log'},
                             self.files(kind, log=True))

    def test_a_null_port_has_no_file(self):
        for kind in ('null', 'udp'):
            self.assertEqual({'path': None, 'log_file': None},
                             self.files(kind))

    def test_a_pipe_port_names_its_fifos_base(self):
        self.assertEqual({'path': '/d/serial2', 'log_file': None},
                         self.files('pipe', 2))
        self.assertEqual({'path': '/d/serial2',
                          'log_file': '/d/console.2.log'},
                         self.files('pipe', 2, log=True))
        self.assertEqual(('/d/serial2.in', '/d/serial2.out'),
                         layout.pipe_fifos('/d/serial2'))

    def test_parallel_ports_are_named_for_their_kind(self):
        def files(kind, index, log=False):
            return layout.port_files('/d', layout.PARALLEL, index,
                                     spec_obj.SerialPortSpec(type=kind,
                                                             log=log))
        self.assertEqual({'path': '/d/parallel0.log',
                          'log_file': '/d/parallel0.log'},
                         files('file', 0))
        self.assertEqual({'path': '/d/parallel1.sock',
                          'log_file': '/d/parallel1.log'},
                         files('unix', 1, log=True))
        self.assertEqual({'path': '/d/parallel2', 'log_file': None},
                         files('pipe', 2))
        self.assertRaises(ValueError, layout.port_log, '/d', 'usb', 0)
