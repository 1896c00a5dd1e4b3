"""Tests of the command line's spec flags and output (cli.specargs, output).

computeagent-ctl itself, end to end against an agent, is in
tests.unit.cmd.test_ctl.
"""

import json
import os
import uuid as uuid_mod

from computeagent.cli import output
from computeagent.cli import parser as cli_parser
from computeagent.cli import specargs
from tests import base


def boot_args(*argv):
    """The parsed arguments of ``computeagent-ctl boot <argv>``."""
    return cli_parser.make_parser().parse_args(['boot'] + list(argv))


class TestParsePairs(base.TestCase):

    def test_values_are_converted_by_key(self):
        self.assertEqual(
            {'image': 'cirros', 'boot_index': 1, 'size_mb': 64,
             'snapshot': True, 'iothread': False, 'readonly': True,
             'cache': 'none', 'port': 4555, 'log': False},
            specargs.parse_pairs(
                'image=cirros, boot_index=1,size_mb=64,snapshot=yes,'
                'iothread=off,readonly=TRUE,cache=none,port=4555,log=0'))

    def test_iotune_keys(self):
        self.assertEqual({'iotune.total_iops_sec': 100,
                          'iotune.read_bytes_sec': 5},
                         specargs.parse_pairs('iotune.total_iops_sec=100,'
                                              'iotune.read_bytes_sec=5'))

    def test_bare_blank_and_empty_items(self):
        self.assertEqual({'blank': True, 'size_mb': 8},
                         specargs.parse_pairs('blank,,size_mb=8,'))
        self.assertEqual({}, specargs.parse_pairs(''))

    def test_values_may_hold_an_equals_sign(self):
        self.assertEqual({'serial': 'a=b'},
                         specargs.parse_pairs('serial=a=b'))

    def test_errors(self):
        for text, message in (
                ('image', "expected key=value, got 'image'"),
                ('size_mb=big', "size_mb must be a whole number, not "
                                "'big'"),
                ('iotune.write_iops_sec=1.5', 'write_iops_sec must be a '
                                              'whole number'),
                ('snapshot=maybe', "snapshot must be true or false, not "
                                   "'maybe'")):
            error = self.assertRaises(specargs.SpecArgError,
                                      specargs.parse_pairs, text)
            self.assertIn(message, str(error))


class TestDiskFromPairs(base.TestCase):

    def test_image_disk(self):
        self.assertEqual({'source': {'image': 'cirros.qcow2'},
                          'boot_index': 1, 'bus': 'scsi'},
                         specargs.disk_from_pairs(
                             'image=cirros.qcow2,boot_index=1,bus=scsi'))

    def test_blank_disk_with_iotune(self):
        self.assertEqual({'source': {'blank': True}, 'size_mb': 8,
                          'iotune': {'total_iops_sec': 100,
                                     'read_bytes_sec': 9}},
                         specargs.disk_from_pairs(
                             'blank,size_mb=8,iotune.total_iops_sec=100,'
                             'iotune.read_bytes_sec=9'))

    def test_cdroms(self):
        self.assertEqual({'source': {'image': 'a.iso'}, 'device': 'cdrom'},
                         specargs.disk_from_pairs('image=a.iso',
                                                  device='cdrom'))
        # A cdrom without an image is an empty drive.
        self.assertEqual({'source': {'blank': True}, 'device': 'cdrom',
                          'bus': 'ide'},
                         specargs.disk_from_pairs('bus=ide',
                                                  device='cdrom'))

    def test_media_of_1_3(self):
        self.assertEqual(
            {'source': {'host_device': '/dev/sr0'}, 'device': 'cdrom'},
            specargs.disk_from_pairs('host_device=/dev/sr0',
                                     device='cdrom'))
        self.assertEqual({'source': {'blank': True}, 'device': 'floppy'},
                         specargs.disk_from_pairs('', device='floppy'))
        spec = specargs.spec_from_args(boot_args(
            '--disk', 'image=a', '--floppy', 'image=dos.img',
            '--cdrom', 'image=x.iso', '--boot-order', 'adc'))
        self.assertEqual('adc', spec['boot_order'])
        self.assertEqual(
            [{'source': {'image': 'a'}},
             {'source': {'image': 'x.iso'}, 'device': 'cdrom'},
             {'source': {'image': 'dos.img'}, 'device': 'floppy'}],
            spec['disks'])

    def test_a_disk_needs_a_source(self):
        for text in ('size_mb=8', 'blank=false,size_mb=8', ''):
            error = self.assertRaises(specargs.SpecArgError,
                                      specargs.disk_from_pairs, text)
            self.assertIn('image=NAME or blank', str(error))


class TestSpecFile(base.TestCase):

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_json(self):
        spec = {'uuid': 'u', 'disks': [{'source': {'blank': True}}]}
        self.assertEqual(spec, specargs.load_spec_file(
            self.write('spec.json', json.dumps(spec))))

    def test_yaml(self):
        path = self.write('spec.yaml', 'uuid: u\nvcpus: 2\n'
                                       'disks:\n'
                                       '  - source: {image: cirros}\n'
                                       '    boot_index: 1\n')
        self.assertEqual({'uuid': 'u', 'vcpus': 2,
                          'disks': [{'source': {'image': 'cirros'},
                                     'boot_index': 1}]},
                         specargs.load_spec_file(path))

    def test_neither(self):
        path = self.write('bad', 'uuid: [unclosed\n')
        error = self.assertRaises(specargs.SpecArgError,
                                  specargs.load_spec_file, path)
        self.assertIn('is neither JSON nor YAML', str(error))

    def test_missing_file(self):
        self.assertRaises(FileNotFoundError, specargs.load_spec_file,
                          os.path.join(self.tmp, 'nope.json'))

    def test_flags_add_to_and_override_the_file(self):
        path = self.write('spec.yaml', '''
uuid: 11111111-2222-4333-8444-555555555555
name: from-file
vcpus: 1
disks: [{source: {image: base}}]
nics: [{type: user}]
serial_ports: [{type: pty}]
metadata: {a: '1'}
''')
        spec = specargs.spec_from_args(boot_args(
            '--spec', path, '--uuid', '11111111-2222-4333-8444-666666666666',
            '--vcpus', '4', '--disk', 'blank,size_mb=8',
            '--cdrom', 'image=x.iso', '--nic', 'type=bridge,bridge=br0',
            '--serial', 'type=tcp,port=4555', '--metadata', 'b=2',
            '--parallel', 'type=file',
            '--parallel', 'type=udp,port=5000,bind_port=5001',
            '--metadata', 'a=3'))
        self.assertEqual({
            'uuid': '11111111-2222-4333-8444-666666666666',
            'name': 'from-file', 'vcpus': 4,
            'disks': [{'source': {'image': 'base'}},
                      {'source': {'blank': True}, 'size_mb': 8},
                      {'source': {'image': 'x.iso'}, 'device': 'cdrom'}],
            'nics': [{'type': 'user'}, {'type': 'bridge', 'bridge': 'br0'}],
            'serial_ports': [{'type': 'tcp', 'port': 4555}],
            'parallel_ports': [{'type': 'file'},
                               {'type': 'udp', 'port': 5000,
                                'bind_port': 5001}],
            'metadata': {'a': '3', 'b': '2'}}, spec)

    def test_null_lists_in_the_file_take_flags(self):
        path = self.write('spec.json', json.dumps(
            {'disks': None, 'nics': None, 'metadata': None}))
        spec = specargs.spec_from_args(boot_args(
            '--spec', path, '--disk', 'image=a', '--nic', 'type=user',
            '--metadata', 'k=v'))
        self.assertEqual([{'source': {'image': 'a'}}], spec['disks'])
        self.assertEqual([{'type': 'user'}], spec['nics'])
        self.assertEqual({'k': 'v'}, spec['metadata'])

    def test_file_values_that_cannot_take_flags(self):
        for key, flags in (('disks', ['--disk', 'image=a']),
                           ('nics', ['--nic', 'type=user']),
                           ('metadata', ['--metadata', 'k=v'])):
            path = self.write('spec.json', json.dumps({key: 'oops'}))
            error = self.assertRaises(specargs.SpecArgError,
                                      specargs.spec_from_args,
                                      boot_args('--spec', path, *flags))
            self.assertIn(key, str(error))

    def test_the_file_must_hold_a_mapping(self):
        path = self.write('spec.yaml', '- 1\n- 2\n')
        error = self.assertRaises(specargs.SpecArgError,
                                  specargs.spec_from_args,
                                  boot_args('--spec', path))
        self.assertIn('mapping', str(error))


class TestSpecFromFlags(base.TestCase):

    def test_flags_only(self):
        spec = specargs.spec_from_args(boot_args(
            '--name', 'web', '--memory-mb', '256', '--video', 'virtio',
            '--disk', 'image=cirros,boot_index=1', '--vnc', '0.0.0.0',
            '--boot-menu'))
        uuid = spec.pop('uuid')
        self.assertEqual(str(uuid_mod.UUID(uuid)), uuid)
        self.assertEqual(4, uuid_mod.UUID(uuid).version)
        self.assertEqual({'name': 'web', 'memory_mb': 256,
                          'video': 'virtio', 'boot_menu': True,
                          'disks': [{'source': {'image': 'cirros'},
                                     'boot_index': 1}],
                          'graphics': {'type': 'vnc', 'listen': '0.0.0.0'}},
                         spec)

    def test_each_boot_gets_its_own_uuid(self):
        self.assertNotEqual(specargs.spec_from_args(boot_args())['uuid'],
                            specargs.spec_from_args(boot_args())['uuid'])

    def test_bad_metadata(self):
        error = self.assertRaises(specargs.SpecArgError,
                                  specargs.spec_from_args,
                                  boot_args('--metadata', 'novalue'))
        self.assertIn("metadata must be key=value, got 'novalue'",
                      str(error))


RECORD = {'uuid': 'u-1', 'name': 'web', 'host': 'h', 'state': 'running',
          'vcpus': 1, 'memory_mb': 128, 'console_log': None,
          'metadata': {'k': 'v'},
          'serial_ports': [{'index': 0, 'type': 'file', 'host': None,
                            'port': None, 'path': '/i/u-1/console.log'},
                           {'index': 1, 'type': 'tcp', 'host': None,
                            'port': 4555, 'path': None}],
          'disks': [{'target': 'vda', 'device': 'disk', 'bus': 'virtio',
                     'format': 'qcow2', 'boot_index': None,
                     'cache': 'none', 'aio': 'threads', 'snapshot': False,
                     'path': '/i/u-1/disk'},
                    {'target': 'sda', 'device': 'cdrom', 'bus': 'sata',
                     'format': 'raw', 'boot_index': 1, 'cache': None,
                     'aio': None, 'snapshot': True,
                     'path': '/i/u-1/disk.sda'}]}


class TestOutput(base.TestCase):

    def test_table(self):
        self.assertEqual(
            '+------+----------+\n'
            '| a    | bb       |\n'
            '+------+----------+\n'
            '| 1    | -        |\n'
            '| long | [1, "x"] |\n'
            '| True | {"y": 2} |\n'
            '+------+----------+',
            output.table([{'a': 1}, {'a': 'long', 'bb': [1, 'x']},
                          {'a': True, 'bb': {'y': 2}}], ('a', 'bb')))

    def test_an_empty_table(self):
        self.assertEqual('+------+\n| uuid |\n+------+\n+------+',
                         output.table([], ('uuid',)))

    def test_properties(self):
        self.assertEqual(
            '+----------+-------+\n'
            '| property | value |\n'
            '+----------+-------+\n'
            '| b        | 2     |\n'
            '+----------+-------+',
            output.properties({'a': 1, 'b': 2}, skip=('a',)))

    def test_instance(self):
        lines = output.render(RECORD, 'instance', 'table').splitlines()
        self.assertEqual([
            '+--------------+-----------------------------------------+',
            '| property     | value                                   |',
            '+--------------+-----------------------------------------+',
            '| uuid         | u-1                                     |',
            '| name         | web                                     |',
            '| host         | h                                       |',
            '| state        | running                                 |',
            '| vcpus        | 1                                       |',
            '| memory_mb    | 128                                     |',
            '| console_log  | -                                       |',
            '| metadata     | {"k": "v"}                              |',
            '| serial_ports | 0 file console.log                      |',
            '|              | 1 tcp 127.0.0.1:4555                    |',
            '| disks        | vda virtio qcow2 cache=none aio=threads |',
            '|              | sda cdrom sata raw boot=1 snapshot      |',
            '+--------------+-----------------------------------------+'],
            lines)

    def test_instance_with_parallel_ports(self):
        text = output.render(dict(RECORD, parallel_ports=[
            {'index': 0, 'type': 'udp', 'host': '127.0.0.1', 'port': 5000,
             'path': None},
            {'index': 1, 'type': 'pipe', 'host': None, 'port': None,
             'path': '/i/u-1/parallel1'}]), 'instance', 'table')
        self.assertIn('| parallel_ports | 0 udp 127.0.0.1:5000', text)
        self.assertIn('|                | 1 pipe /i/u-1/parallel1', text)

    def test_instance_without_disks(self):
        text = output.render(dict(RECORD, disks=[]), 'instance', 'table')
        self.assertIn('| disks        | -  ', text)

    def test_a_long_record_fits(self):
        path = '/var/lib/computeagent/instances/%s' % ('u' * 36)
        record = dict(
            RECORD, name='n' * 255, error='DriverError: ' + 'why ' * 60,
            console_log=path + '/console.log',
            metadata={'k%d' % i: 'v' * 20 for i in range(10)},
            disks=[dict(RECORD['disks'][0], path=path + '/disk',
                        target='vd' + c) for c in 'abcdefgh'])
        text = output.render(record, 'instance', 'table')
        self.assertEqual(output.MAX_WIDTH,
                         max(len(line) for line in text.splitlines()))
        # Wrapped, not cut: every character is still there.
        flat = ''.join(line[17:-2].strip() for line in text.splitlines())
        self.assertIn('n' * 255, flat)
        self.assertIn(path + '/console.log', flat)
        self.assertIn('|              | vdh virtio qcow2 cache=none '
                      'aio=threads ', text)
        self.assertNotIn(path + '/disk', text)

    def test_instances(self):
        text = output.render([RECORD, dict(RECORD, uuid='u-2',
                                           state='paused')],
                             'instances', 'table')
        lines = text.splitlines()
        self.assertEqual('| uuid | name | state   | vcpus | memory_mb | '
                         'host |', lines[1])
        self.assertEqual('| u-2  | web  | paused  | 1     | 128       | '
                         'h    |', lines[4])

    def test_a_long_list_fits_and_keeps_uuids_whole(self):
        uuid = '11111111-2222-4333-8444-555555555555'
        text = output.render(
            [dict(RECORD, uuid=uuid, name='n' * 255, host='h' * 64)],
            'instances', 'table')
        self.assertEqual(output.MAX_WIDTH,
                         max(len(line) for line in text.splitlines()))
        self.assertIn('| %s |' % uuid, text)

    def test_wrapping(self):
        self.assertEqual(
            '+----------+---+\n'
            '| a        | b |\n'
            '+----------+---+\n'
            '| 12345678 | x |\n'
            '| 9        |   |\n'
            '+----------+---+',
            output.table([{'a': '123456789', 'b': 'x'}], ('a', 'b'),
                         max_width=16))
        # A fixed column is never narrowed, even past the width.
        self.assertEqual(
            '+---------------+---+\n'
            '| a             | b |\n'
            '+---------------+---+\n'
            '| 1234567890123 | x |\n'
            '+---------------+---+',
            output.table([{'a': '1234567890123', 'b': 'x'}], ('a', 'b'),
                         max_width=10, fixed=('a',)))

    def test_console(self):
        self.assertEqual('line 1\nline 2', output.render(
            {'output': 'line 1\nline 2\n\n', 'truncated': False,
             'size': 14}, 'console', 'table'))

    def test_json(self):
        for kind in ('instance', 'instances', 'console', 'mapping'):
            text = output.render(RECORD, kind, 'json')
            self.assertEqual(RECORD, json.loads(text))
            self.assertEqual(json.dumps(RECORD, indent=2, sort_keys=True),
                             text)
