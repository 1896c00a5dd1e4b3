"""Tests of the request schema (computeagent.schema.instance)."""

import copy
import json
import os

from computeagent import exception
from computeagent.objects import spec as spec_obj
from computeagent.schema import instance
from computeagent.schema import ports
from tests import base

CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    __file__))), 'corpus')
UUID = '11111111-2222-4333-8444-555555555555'
HEX_UUID = 'abcdef01-2345-4678-89ab-cdef01234567'
IMG = 'cirros.qcow2'
ISO = 'installer.iso'
# Values of the wrong shape for almost any field.
GARBAGE = (None, True, 0, -1, 1.5, '', 'x', '\x00', [], [None], {},
           {'a': None}, {'type': None}, [{}], 10 ** 30)


def load(name):
    with open(os.path.join(CORPUS, name)) as f:
        return json.load(f)


def spec(**kw):
    result = {'uuid': UUID, 'disks': [{'source': {'image': IMG}}]}
    result.update(kw)
    return result


def disks(*items):
    return spec(disks=list(items))


class SchemaTestCase(base.TestCase):

    def validate(self, value):
        """The normalized spec's dict, to compare with docs/api.md's."""
        normalized = instance.validate_spec(value, self.conf)
        self.assertIsInstance(normalized, spec_obj.InstanceSpec)
        return normalized.to_dict()

    def assertInvalid(self, field, value, func=None, /, *args, **kw):
        """The call raises InvalidSpec naming exactly ``field``."""
        func = func or self.validate
        error = self.assertRaises(exception.InvalidSpec, func, value, *args,
                                  **kw)
        self.assertEqual(field, error.field, str(error))
        self.assertIn(field, str(error))
        return error


class TestCorpus(SchemaTestCase):

    def test_invalid_corpus_is_large_and_well_formed(self):
        entries = load('invalid_specs.json')
        self.assertGreaterEqual(len(entries), 60)
        names = [entry['name'] for entry in entries]
        self.assertEqual(len(names), len(set(names)))
        for entry in entries:
            self.assertEqual({'name', 'spec', 'field'}, set(entry))

    def test_every_invalid_spec_names_its_field(self):
        wrong = []
        for entry in load('invalid_specs.json'):
            try:
                self.validate(entry['spec'])
            except exception.InvalidSpec as e:
                if e.field != entry['field'] or entry['field'] not in str(e):
                    wrong.append('%s: got %s (%s)'
                                 % (entry['name'], e.field, e))
            else:
                wrong.append('%s: accepted' % entry['name'])
        self.assertEqual([], wrong)

    def test_valid_corpus_validates_to_a_fixed_point(self):
        entries = load('valid_specs.json')
        self.assertGreaterEqual(len(entries), 10)
        for entry in entries:
            request = entry['spec']
            before = copy.deepcopy(request)
            normalized = self.validate(request)
            self.assertEqual(before, request, entry['name'])
            # A stored spec is itself a valid request that changes nothing.
            self.assertEqual(normalized, self.validate(normalized),
                             entry['name'])
            self.assertEqual(normalized,
                             json.loads(json.dumps(normalized)))

    def test_valid_corpus_covers_every_feature(self):
        found = {'bus': set(), 'cache': set(), 'aio': set(),
                 'serial': set(), 'parallel': set(), 'nic': set(),
                 'model': set(),
                 'video': set(), 'device': set()}
        flags = set()
        for entry in load('valid_specs.json'):
            normalized = self.validate(entry['spec'])
            for disk in normalized['disks']:
                found['bus'].add(disk['bus'])
                found['cache'].add(disk['cache'])
                found['aio'].add(disk['aio'])
                found['device'].add(disk['device'])
                for key in ('iothread', 'snapshot', 'iotune', 'serial',
                            'size_mb', 'boot_index'):
                    if disk[key]:
                        flags.add(key)
            found['serial'].update(p['type']
                                   for p in normalized['serial_ports'])
            found['parallel'].update(p['type']
                                     for p in normalized['parallel_ports'])
            found['nic'].update(n['type'] for n in normalized['nics'])
            found['model'].update(n['model'] for n in normalized['nics'])
            found['video'].add(normalized['video'])
            if normalized['graphics']:
                flags.add('graphics')
        self.assertEqual({'virtio', 'scsi', 'sata', 'ide', 'fdc'},
                         found['bus'])
        self.assertEqual({None, 'none', 'writethrough', 'writeback',
                          'directsync', 'unsafe'}, found['cache'])
        self.assertEqual({None, 'native', 'threads', 'io_uring'},
                         found['aio'])
        self.assertEqual({'disk', 'cdrom', 'floppy'}, found['device'])
        self.assertEqual(set(ports.SERIAL_TYPES), found['serial'])
        self.assertEqual(set(ports.PARALLEL_TYPES), found['parallel'])
        self.assertEqual(set(instance.NIC_TYPES), found['nic'])
        self.assertEqual(set(instance.NIC_MODELS), found['model'])
        self.assertEqual(set(instance.VIDEO_MODELS), found['video'])
        self.assertEqual({'iothread', 'snapshot', 'iotune', 'serial',
                          'size_mb', 'boot_index', 'graphics'}, flags)


class TestNormalize(SchemaTestCase):

    def test_minimal_spec_gets_every_default(self):
        self.assertEqual({
            'uuid': UUID, 'name': UUID, 'vcpus': 1, 'memory_mb': 128,
            'boot_menu': False, 'boot_order': None, 'video': 'none',
            'graphics': None, 'metadata': {},
            'disks': [{
                'source': {'image': IMG}, 'device': 'disk', 'bus': 'virtio',
                'target': 'vda', 'format': 'qcow2', 'size_mb': None,
                'boot_index': None, 'cache': None, 'aio': None,
                'iothread': False, 'discard': 'ignore', 'iotune': None,
                'snapshot': False, 'readonly': False, 'serial': None}],
            'serial_ports': [{'type': 'file', 'log': False, 'host': None,
                              'port': None, 'bind_host': None,
                              'bind_port': None}],
            'parallel_ports': [],
            'nics': [],
        }, self.validate(spec()))

    def test_default_format_comes_from_config(self):
        self.flags(default_format='raw', group='disk')
        normalized = self.validate(disks(
            {'source': {'image': IMG}},
            {'source': {'image': IMG}, 'format': 'qcow2'}))
        self.assertEqual(['raw', 'qcow2'],
                         [d['format'] for d in normalized['disks']])

    def test_cdrom_defaults_to_sata_and_readonly(self):
        disk = self.validate(disks({'source': {'image': ISO},
                                    'device': 'cdrom'}))['disks'][0]
        self.assertEqual(('sata', 'sda', True),
                         (disk['bus'], disk['target'], disk['readonly']))

    def test_blank_cdrom_is_an_empty_drive(self):
        disk = self.validate(disks({'source': {'blank': True},
                                    'device': 'cdrom'}))['disks'][0]
        self.assertEqual({'blank': True}, disk['source'])
        self.assertIsNone(disk['size_mb'])

    def test_targets_per_bus_in_disk_order(self):
        normalized = self.validate(disks(
            {'source': {'image': IMG}},
            {'source': {'image': ISO}, 'device': 'cdrom'},
            {'source': {'blank': True}, 'size_mb': 1, 'bus': 'scsi'},
            {'source': {'blank': True}, 'size_mb': 1},
            {'source': {'blank': True}, 'size_mb': 1, 'bus': 'ide'},
            {'source': {'blank': True}, 'size_mb': 1, 'bus': 'sata'},
            {'source': {'image': ISO}, 'device': 'cdrom', 'bus': 'ide'}))
        # sata and scsi share the sd names.
        self.assertEqual(['vda', 'sda', 'sdb', 'vdb', 'hda', 'sdc', 'hdb'],
                         [d['target'] for d in normalized['disks']])

    def test_given_targets_are_reserved_before_assignment(self):
        normalized = self.validate(disks(
            {'source': {'blank': True}, 'size_mb': 1},
            {'source': {'image': IMG}, 'target': 'vda'},
            {'source': {'blank': True}, 'size_mb': 1, 'bus': 'scsi'},
            {'source': {'blank': True}, 'size_mb': 1, 'bus': 'sata',
             'target': 'sda'}))
        self.assertEqual(['vdb', 'vda', 'sdb', 'sda'],
                         [d['target'] for d in normalized['disks']])

    def test_targets_go_on_to_two_letters(self):
        self.flags(max_disks=30, group='disk')
        normalized = self.validate(disks(
            *[{'source': {'blank': True}, 'size_mb': 1}] * 30))
        targets = [d['target'] for d in normalized['disks']]
        self.assertEqual(['vdy', 'vdz', 'vdaa', 'vdab', 'vdac', 'vdad'],
                         targets[24:])

    def test_four_ide_devices_fit(self):
        normalized = self.validate(disks(
            *[{'source': {'blank': True}, 'size_mb': 1, 'bus': 'ide'}] * 4))
        self.assertEqual(['hda', 'hdb', 'hdc', 'hdd'],
                         [d['target'] for d in normalized['disks']])

    def test_fifth_ide_device_is_refused_even_with_given_targets(self):
        self.assertInvalid('disks[0].bus', disks(
            {'source': {'blank': True}, 'size_mb': 1, 'bus': 'ide'},
            *[{'source': {'blank': True}, 'size_mb': 1, 'bus': 'ide',
               'target': t} for t in ('hda', 'hdb', 'hdc', 'hdd')]))

    def test_max_disks_comes_from_config(self):
        self.flags(max_disks=2, group='disk')
        three = disks(*[{'source': {'blank': True}, 'size_mb': 1}] * 3)
        self.assertInvalid('disks', three)
        self.flags(max_disks=3, group='disk')
        self.assertEqual(3, len(self.validate(three)['disks']))

    def test_input_is_not_mutated_nor_shared(self):
        request = spec(metadata={'a': 'b'}, nics=[{}],
                       graphics={'type': 'vnc'},
                       disks=[{'source': {'image': IMG},
                               'iotune': {'total_iops_sec': 5}}])
        before = copy.deepcopy(request)
        normalized = self.validate(request)
        self.assertEqual(before, request)
        normalized['metadata']['c'] = 'd'
        normalized['disks'][0]['source']['image'] = 'other'
        normalized['disks'][0]['iotune']['total_iops_sec'] = 6
        normalized['graphics']['listen'] = '::'
        normalized['nics'][0]['model'] = 'e1000'
        self.assertEqual(before, request)

    def test_mac_is_lower_cased(self):
        normalized = self.validate(spec(nics=[{'mac': '52:54:00:AB:cd:EF'}]))
        self.assertEqual('52:54:00:ab:cd:ef', normalized['nics'][0]['mac'])

    def test_nic_defaults(self):
        self.assertEqual(
            [{'type': 'user', 'network': None, 'bridge': None,
              'model': 'virtio', 'mac': None, 'boot_index': None}],
            self.validate(spec(nics=[{}]))['nics'])

    def test_serial_port_defaults(self):
        ports = self.validate(spec(serial_ports=[
            {'type': 'pty'}, {'type': 'tcp', 'port': 4000},
            {'type': 'tcp', 'host': None, 'port': 4001}, {'type': 'null'},
        ]))['serial_ports']
        unbound = {'bind_host': None, 'bind_port': None}
        self.assertEqual([
            dict(unbound, type='pty', log=False, host=None, port=None),
            dict(unbound, type='tcp', log=False, host='127.0.0.1', port=4000),
            dict(unbound, type='tcp', log=False, host='127.0.0.1', port=4001),
            dict(unbound, type='null', log=False, host=None, port=None),
        ], ports)

    def test_no_serial_port_at_all(self):
        self.assertEqual([],
                         self.validate(spec(serial_ports=[]))['serial_ports'])

    def test_unused_keys_with_unused_values_are_accepted(self):
        port = {'type': 'file', 'log': False, 'host': None, 'port': None,
                'bind_host': None, 'bind_port': None}
        nic = {'type': 'user', 'network': None, 'bridge': None}
        normalized = self.validate(spec(serial_ports=[port], nics=[nic]))
        self.assertEqual([port], normalized['serial_ports'])
        self.assertIsNone(normalized['nics'][0]['network'])

    def test_null_where_null_means_not_given(self):
        disk = self.validate(disks({
            'source': {'image': IMG}, 'target': None, 'size_mb': None,
            'boot_index': None, 'cache': None, 'aio': None, 'iotune': None,
            'serial': None}))['disks'][0]
        self.assertEqual('vda', disk['target'])

    def test_empty_iotune_is_none(self):
        disk = self.validate(disks({'source': {'image': IMG},
                                    'iotune': {}}))['disks'][0]
        self.assertIsNone(disk['iotune'])

    def test_graphics_listen_default(self):
        self.assertEqual({'type': 'vnc', 'listen': '127.0.0.1'},
                         self.validate(spec(graphics={'type': 'vnc'}))
                         ['graphics'])

    def test_printable_unicode_name_is_kept(self):
        name = 'caf\u00e9 \u2603 web-1'
        self.assertEqual(name, self.validate(spec(name=name))['name'])


class TestRules(SchemaTestCase):

    def test_garbage_anywhere_is_invalid_spec_never_a_crash(self):
        # Every key of every valid spec, replaced by every garbage value:
        # the outcome is a normalized spec or InvalidSpec, nothing else.
        def paths(value, path=()):
            yield path
            if isinstance(value, dict):
                for key, item in value.items():
                    yield from paths(item, path + (key,))
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    yield from paths(item, path + (index,))

        refused = 0
        for entry in load('valid_specs.json'):
            for path in list(paths(entry['spec']))[1:]:
                for junk in GARBAGE:
                    broken = copy.deepcopy(entry['spec'])
                    target = broken
                    for key in path[:-1]:
                        target = target[key]
                    target[path[-1]] = junk
                    try:
                        self.validate(broken)
                    except exception.InvalidSpec:
                        refused += 1
        self.assertGreater(refused, 1000)

    def test_not_a_dict_at_the_top(self):
        for junk in GARBAGE:
            if not isinstance(junk, dict):
                self.assertInvalid('spec', junk)
        self.assertInvalid('uuid', {})

    def test_uuid_must_be_canonical(self):
        self.validate(spec(uuid=HEX_UUID))
        for bad in (HEX_UUID.upper(), UUID.replace('-', ''), '{%s}' % UUID,
                    UUID + '\n', ' ' + UUID, UUID[:-1], 'urn:uuid:' + UUID):
            self.assertInvalid('uuid', spec(uuid=bad))

    def test_bool_is_not_an_int_and_int_is_not_a_bool(self):
        self.assertInvalid('vcpus', spec(vcpus=True))
        self.assertInvalid('memory_mb', spec(memory_mb=False))
        self.assertInvalid('boot_menu', spec(boot_menu=0))
        self.assertInvalid('disks[0].snapshot',
                           disks({'source': {'image': IMG}, 'snapshot': 0}))

    def test_ranges_at_their_edges(self):
        self.validate(spec(vcpus=255, memory_mb=16))
        self.validate(spec(memory_mb=16 * 1024 * 1024))
        self.assertInvalid('vcpus', spec(vcpus=256))
        self.assertInvalid('memory_mb', spec(memory_mb=15))
        self.validate(spec(name='n' * 255))
        self.assertInvalid('name', spec(name='n' * 256))

    def test_name_with_unprintable_characters(self):
        for bad in ('a\tb', 'a\x00', 'a\x7f', 'a\u00a0b', 'a\u2028b'):
            self.assertInvalid('name', spec(name=bad))

    def test_aio_native_needs_an_o_direct_cache(self):
        for cache in (None, 'none', 'directsync'):
            self.validate(disks({'source': {'image': IMG}, 'aio': 'native',
                                 'cache': cache}))
        for cache in ('writethrough', 'writeback', 'unsafe'):
            self.assertInvalid('disks[0].aio', disks(
                {'source': {'image': IMG}, 'aio': 'native',
                 'cache': cache}))

    def test_iotune_total_excludes_read_and_write_of_its_kind(self):
        for other in ('read', 'write'):
            for unit in ('bytes', 'iops'):
                key = '%s_%s_sec' % (other, unit)
                self.assertInvalid(
                    'disks[0].iotune.' + key,
                    disks({'source': {'image': IMG},
                           'iotune': {'total_%s_sec' % unit: 0, key: 1}}))
        # Different kinds combine.
        self.validate(disks({'source': {'image': IMG},
                             'iotune': {'total_bytes_sec': 1,
                                        'read_iops_sec': 2,
                                        'write_iops_sec': 0}}))

    def test_disk_serial(self):
        self.validate(disks({'source': {'image': IMG},
                             'serial': 'Az09_-' + 'x' * 14}))
        for bad in ('', 'a.b', 'a/b', 'x' * 21, 'caf\u00e9'):
            self.assertInvalid('disks[0].serial', disks(
                {'source': {'image': IMG}, 'serial': bad}))

    def test_tcp_host_names_and_addresses(self):
        for host in ('127.0.0.1', '::1', 'localhost', 'node-1.example.org',
                     '0.0.0.0'):
            self.validate(spec(serial_ports=[
                {'type': 'tcp', 'host': host, 'port': 1}]))
        for host in ('', 'a..b', 'a_b', '256.0.0.1', 'x' * 64, 1):
            self.assertInvalid('serial_ports[0].host', spec(serial_ports=[
                {'type': 'tcp', 'host': host, 'port': 1}]))

    def test_tcp_ports_may_share_a_number_on_other_hosts(self):
        self.validate(spec(serial_ports=[
            {'type': 'tcp', 'host': '127.0.0.1', 'port': 4000},
            {'type': 'tcp', 'host': '127.0.0.2', 'port': 4000},
            {'type': 'tcp', 'host': '127.0.0.1', 'port': 4001}]))
        self.assertInvalid('serial_ports[1].port', spec(serial_ports=[
            {'type': 'tcp', 'host': '::', 'port': 4000},
            {'type': 'tcp', 'host': '127.0.0.2', 'port': 4000}]))

    def test_udp_port_defaults(self):
        ports = self.validate(spec(serial_ports=[
            {'type': 'udp', 'port': 5000},
            {'type': 'udp', 'host': '::1', 'port': 5001, 'bind_port': 6001},
            {'type': 'udp', 'host': 'LocalHost', 'port': 5002,
             'bind_host': '127.0.0.1', 'log': True}]))['serial_ports']
        self.assertEqual([
            {'type': 'udp', 'log': False, 'host': '127.0.0.1', 'port': 5000,
             'bind_host': '127.0.0.1', 'bind_port': None},
            {'type': 'udp', 'log': False, 'host': '::1', 'port': 5001,
             'bind_host': '::1', 'bind_port': 6001},
            {'type': 'udp', 'log': True, 'host': 'LocalHost', 'port': 5002,
             'bind_host': '127.0.0.1', 'bind_port': None}], ports)

    def test_udp_hosts_beyond_loopback_need_configuration(self):
        request = spec(serial_ports=[
            {'type': 'udp', 'host': '192.0.2.7', 'port': 514}])
        error = self.assertInvalid('serial_ports[0].host', request)
        self.assertIn('[serial] udp_allowed_hosts', str(error))
        self.flags(udp_allowed_hosts=['192.0.2.7', 'Logs.example.org'],
                   group='serial')
        # Not loopback: the local end is the system's choice unless given.
        self.assertEqual(
            {'type': 'udp', 'log': False, 'host': '192.0.2.7', 'port': 514,
             'bind_host': None, 'bind_port': None},
            self.validate(request)['serial_ports'][0])
        self.validate(spec(parallel_ports=[
            {'type': 'udp', 'host': 'logs.EXAMPLE.org', 'port': 514,
             'bind_host': '192.0.2.1', 'bind_port': 514}]))
        # Loopback is allowed only by the default list.
        self.assertInvalid('parallel_ports[0].host', spec(parallel_ports=[
            {'type': 'udp', 'port': 514}]))
        self.flags(udp_allowed_hosts=[], group='serial')
        error = self.assertInvalid('serial_ports[0].host', request)
        self.assertIn('<empty>', str(error))

    def test_bound_ports_clash_within_their_protocol_only(self):
        # tcp and udp ports may share a number; serial and parallel ports
        # are checked together.
        self.validate(spec(
            serial_ports=[{'type': 'tcp', 'port': 4000},
                          {'type': 'udp', 'port': 4000, 'bind_port': 4000}],
            parallel_ports=[{'type': 'udp', 'port': 4000,
                             'bind_host': '127.0.0.2', 'bind_port': 4000},
                            {'type': 'udp', 'port': 4000}]))
        error = self.assertInvalid('parallel_ports[0].port', spec(
            serial_ports=[{'type': 'tcp', 'port': 4000}],
            parallel_ports=[{'type': 'tcp', 'host': '0.0.0.0',
                             'port': 4000}]))
        self.assertIn('serial_ports[0]', str(error))
        self.assertInvalid('parallel_ports[1].bind_port', spec(
            parallel_ports=[
                {'type': 'udp', 'host': '::1', 'port': 1, 'bind_host': '::',
                 'bind_port': 4000},
                {'type': 'udp', 'port': 2, 'bind_port': 4000}]))

    def test_parallel_ports(self):
        self.assertEqual([], self.validate(spec())['parallel_ports'])
        ports = self.validate(spec(parallel_ports=[
            {'type': 'file'}, {'type': 'pipe', 'log': True},
            {'type': 'tcp', 'port': 4000}]))['parallel_ports']
        unbound = {'bind_host': None, 'bind_port': None}
        self.assertEqual([
            dict(unbound, type='file', log=False, host=None, port=None),
            dict(unbound, type='pipe', log=True, host=None, port=None),
            dict(unbound, type='tcp', log=False, host='127.0.0.1',
                 port=4000)], ports)
        self.assertInvalid('parallel_ports', spec(
            parallel_ports=[{'type': 'null'}] * 4))

    def test_log_is_allowed_only_where_it_means_something(self):
        for kind in ('pty', 'unix', 'pipe'):
            self.validate(spec(serial_ports=[{'type': kind, 'log': True}]))
        for kind in ('file', 'null'):
            self.assertInvalid('serial_ports[0].log', spec(
                serial_ports=[{'type': kind, 'log': True}]))

    def test_boot_index_is_unique_across_disks_and_nics(self):
        self.validate(spec(nics=[{'boot_index': 1}, {'boot_index': 3}],
                           disks=[{'source': {'image': IMG},
                                   'boot_index': 2}]))
        error = self.assertInvalid('nics[1].boot_index', spec(
            nics=[{}, {'boot_index': 2}],
            disks=[{'source': {'image': IMG}, 'boot_index': 2}]))
        self.assertIn('disks[0]', str(error))

    def test_unknown_key_that_is_not_a_plain_name(self):
        error = self.assertInvalid('disks[0]', disks(
            {'source': {'image': IMG}, 'x' * 100: 1}))
        self.assertLess(len(str(error)), 200)
        self.assertInvalid('disks[0]', disks(
            {'source': {'image': IMG}, 'a\nb': 1}))

    def test_messages_stay_short_whatever_the_value(self):
        error = self.assertInvalid('video', spec(video='q' * 10000))
        self.assertLess(len(str(error)), 200)
