"""Tests of computeagent.objects: to_dict is docs/api.md's dict."""

import dataclasses
import json

from computeagent import exception
from computeagent.objects import record
from computeagent.objects import spec
from computeagent.objects import stored
from tests import base

UUID = 'c3048042-f29e-41b9-a38b-b544603e6b87'
DIR = '/var/lib/computeagent/instances/' + UUID

# docs/api.md, "Instance record"
RECORD = {
    'uuid': UUID, 'name': 'web-1', 'host': 'docs-node', 'state': 'running',
    'vcpus': 1, 'memory_mb': 256,
    'disks': [{'target': 'vda', 'device': 'disk', 'bus': 'virtio',
               'path': DIR + '/disk', 'format': 'qcow2', 'boot_index': 1,
               'cache': 'none', 'aio': 'native', 'snapshot': False}],
    'serial_ports': [{'index': 0, 'type': 'file',
                      'path': DIR + '/console.log',
                      'log_file': DIR + '/console.log',
                      'host': None, 'port': None,
                      'bind_host': None, 'bind_port': None}],
    'parallel_ports': [{'index': 0, 'type': 'pipe',
                        'path': DIR + '/parallel0', 'log_file': None,
                        'host': None, 'port': None,
                        'bind_host': None, 'bind_port': None}],
    'console_log': DIR + '/console.log',
    'created_at': '2026-12-02T04:17:39.364558Z',
    'metadata': {}, 'error': None}

DISK = {'source': {'image': 'cirros.qcow2'}, 'device': 'disk',
        'bus': 'virtio', 'target': 'vda', 'format': 'qcow2', 'size_mb': None,
        'boot_index': 1, 'cache': None, 'aio': None, 'iothread': False,
        'discard': 'ignore', 'iotune': {'total_iops_sec': 5},
        'snapshot': False, 'readonly': False, 'serial': None}
SPEC = {
    'uuid': UUID, 'name': 'web-1', 'vcpus': 1, 'memory_mb': 256,
    'boot_menu': False, 'boot_order': None, 'video': 'none',
    'graphics': {'type': 'vnc', 'listen': '127.0.0.1'},
    'metadata': {'b': '1', 'a': '2'},
    'disks': [DISK, dict(DISK, source={'blank': True}, target='vdb',
                         size_mb=1, boot_index=None, iotune=None)],
    'serial_ports': [{'type': 'tcp', 'log': True, 'host': '127.0.0.1',
                      'port': 4000, 'bind_host': None, 'bind_port': None}],
    'parallel_ports': [{'type': 'udp', 'log': False, 'host': '127.0.0.1',
                        'port': 4001, 'bind_host': '127.0.0.1',
                        'bind_port': None}],
    'nics': [{'type': 'user', 'network': None, 'bridge': None,
              'model': 'virtio', 'mac': None, 'boot_index': None}]}


def dumps(data):
    # No sort_keys: the order of keys is part of what goes on the wire.
    return json.dumps(data)


class TestRoundTrips(base.TestCase):

    def test_record_of_the_docs(self):
        obj = record.InstanceRecord.from_dict(RECORD)
        self.assertEqual(dumps(RECORD), dumps(obj.to_dict()))
        self.assertEqual(tuple(record.RECORD_KEYS), tuple(obj.to_dict()))
        self.assertIsInstance(obj.disks[0], record.DiskRecord)
        self.assertIsInstance(obj.serial_ports[0], record.SerialPortRecord)

    def test_building_record_carries_spec_ports(self):
        building = dict(RECORD, state='building', disks=[],
                        console_log=None, serial_ports=SPEC['serial_ports'],
                        parallel_ports=SPEC['parallel_ports'])
        obj = record.InstanceRecord.from_dict(building)
        self.assertIsInstance(obj.serial_ports[0], spec.SerialPortSpec)
        self.assertEqual(dumps(building), dumps(obj.to_dict()))

    def test_spec(self):
        obj = spec.InstanceSpec.from_dict(SPEC)
        self.assertEqual(dumps(SPEC), dumps(obj.to_dict()))
        self.assertTrue(obj.disks[1].source.blank)
        self.assertEqual('cirros.qcow2', obj.disks[0].image)
        self.assertEqual((('total_iops_sec', 5),), obj.disks[0].iotune)

    def test_metadata_keeps_its_order(self):
        obj = spec.InstanceSpec.from_dict(SPEC)
        self.assertEqual(['b', 'a'], list(obj.to_dict()['metadata']))

    def test_stored_instance_leaves_out_what_is_unset(self):
        data = {'record': RECORD, 'spec': SPEC, 'fingerprint': 'f'}
        obj = stored.StoredInstance.from_dict(data)
        self.assertEqual(data, obj.to_dict())
        self.assertEqual(UUID, obj.uuid)
        self.assertEqual({'record': RECORD},
                         stored.StoredInstance.from_dict(
                             {'record': RECORD}).to_dict())
        tasked = dataclasses.replace(obj, task='deleting')
        self.assertEqual(dict(data, task='deleting'), tasked.to_dict())
        detaching = dataclasses.replace(obj, detaching=('vdb', 'sda'))
        self.assertEqual(dict(data, detaching=['vdb', 'sda']),
                         detaching.to_dict())
        self.assertEqual(detaching, stored.StoredInstance.from_dict(
            detaching.to_dict()))


class TestImmutable(base.TestCase):

    def test_frozen_and_hashable(self):
        obj = spec.InstanceSpec.from_dict(SPEC)
        self.assertRaises(dataclasses.FrozenInstanceError, setattr, obj,
                          'name', 'x')
        self.assertIsInstance(obj.disks, tuple)
        self.assertEqual(hash(obj), hash(spec.InstanceSpec.from_dict(SPEC)))

    def test_to_dict_shares_nothing(self):
        obj = spec.InstanceSpec.from_dict(SPEC)
        data = obj.to_dict()
        data['metadata']['c'] = 'd'
        data['disks'][0]['iotune']['total_iops_sec'] = 6
        self.assertEqual(dumps(SPEC), dumps(obj.to_dict()))


class TestDiskLookup(base.TestCase):

    def test_record_disk(self):
        obj = record.InstanceRecord.from_dict(RECORD)
        self.assertEqual('vda', obj.disk('vda').target)
        error = self.assertRaises(exception.InvalidSpec, obj.disk, 'vdz')
        self.assertEqual('target', error.field)
        self.assertIn('instance %s has no disk vdz' % UUID, str(error))

    def test_spec_disk(self):
        obj = spec.InstanceSpec.from_dict(SPEC)
        self.assertEqual(1, obj.disk('vdb')[0])
        self.assertRaises(exception.InvalidSpec, obj.disk, 'sda')
