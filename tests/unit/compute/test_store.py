"""Tests of the instance records (computeagent.compute.store)."""

import errno
import json
import logging
import os
import stat

import dataclasses

import fixtures

from computeagent.compute import store
from computeagent import exception
from computeagent.objects import record as record_obj
from computeagent.objects import spec as spec_obj
from computeagent.objects import stored as stored_obj
from tests import base

UUID1 = '11111111-2222-4333-8444-000000000001'
UUID2 = '11111111-2222-4333-8444-000000000002'
UUID3 = '11111111-2222-4333-8444-000000000003'
UUID4 = '11111111-2222-4333-8444-000000000004'
UUID5 = '11111111-2222-4333-8444-000000000005'
DISK = {'target': 'vda', 'device': 'disk', 'bus': 'virtio',
        'path': '/i/disk', 'format': 'qcow2', 'boot_index': None,
        'cache': 'none', 'aio': 'native', 'snapshot': False}


def record_dict(uuid=UUID1, created_at='2026-01-01T00:00:00Z', **fields):
    result = {'uuid': uuid, 'name': 'vm', 'host': 'test-host',
              'state': 'running', 'vcpus': 1, 'memory_mb': 128,
              'disks': [DISK], 'serial_ports': [], 'parallel_ports': [],
              'console_log': None, 'created_at': created_at,
              'metadata': {'k': 'v'}, 'error': None}
    result.update(fields)
    return result


def record(uuid=UUID1, created_at='2026-01-01T00:00:00Z', **fields):
    return record_obj.InstanceRecord.from_dict(
        record_dict(uuid, created_at, **fields))


def spec(version, uuid=UUID1):
    """A spec told apart from others by its ``name``."""
    return spec_obj.InstanceSpec(
        uuid=uuid, name='v%s' % version,
        disks=(spec_obj.DiskSpec(spec_obj.DiskSource('a'), target='vda'),))


class StoreTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.tmp, 'instances')
        self.store = store.InstanceStore(self.path)

    def reloaded(self):
        """A new store that knows only what is on disk."""
        other = store.InstanceStore(self.path)
        other.load_all()
        return other

    def stray_files(self, uuid):
        return [name for name in os.listdir(self.store.instance_dir(uuid))
                if name != store.RECORD_FILE]


class TestSaveAndRead(StoreTestCase):

    def test_save_then_get(self):
        saved = self.store.save(record(), spec=spec(1), fingerprint='abc')
        self.assertEqual(record(), saved)
        self.assertEqual(record(), self.store.get(UUID1))
        self.assertEqual(stored_obj.StoredInstance(record(), spec(1), 'abc'),
                         self.store.get_stored(UUID1))
        self.assertEqual({UUID1}, self.store.uuids())

    def test_unknown_uuid(self):
        self.assertIsNone(self.store.get(UUID1))
        self.assertIsNone(self.store.get_stored(UUID1))
        self.assertEqual([], self.store.list())
        self.assertEqual(set(), self.store.uuids())

    def test_record_file_is_json_under_the_instance_dir(self):
        self.store.save(record(), spec=spec(1), fingerprint='f')
        self.assertEqual(os.path.join(self.path, UUID1),
                         self.store.instance_dir(UUID1))
        with open(os.path.join(self.path, UUID1, 'instance.json')) as f:
            self.assertEqual({'record': record_dict(),
                              'spec': spec(1).to_dict(),
                              'fingerprint': 'f'}, json.load(f))
        self.assertEqual([], self.stray_files(UUID1))

    def test_a_file_of_the_code_before_objects_loads(self):
        # instance.json as the agent wrote it when records were dicts
        os.makedirs(os.path.join(self.path, UUID1))
        port = {'index': 0, 'type': 'file', 'path': '/i/console.log',
                'log_file': '/i/console.log', 'host': None, 'port': None}
        old_record = record_dict(serial_ports=[port])
        # Before API 1.3: no parallel ports, no udp bind keys.
        del old_record['parallel_ports']
        old_spec = dict(spec(1).to_dict(), metadata={'k': 'v'})
        del old_spec['parallel_ports']
        old_spec['serial_ports'] = [
            {key: value for key, value in p.items()
             if key not in ('bind_host', 'bind_port')}
            for p in old_spec['serial_ports']]
        data = {'record': old_record, 'spec': old_spec,
                'fingerprint': 'f', 'task': 'deleting'}
        # What it says read back: the same, with the new keys "not used".
        unbound = {'bind_host': None, 'bind_port': None}
        upgraded = {
            'record': record_dict(serial_ports=[dict(port, **unbound)]),
            'spec': dict(spec(1).to_dict(), metadata={'k': 'v'}),
            'fingerprint': 'f', 'task': 'deleting'}
        with open(os.path.join(self.path, UUID1, 'instance.json'),
                  'w') as f:
            json.dump(data, f, indent=1, sort_keys=True)
        self.assertEqual(1, self.store.load_all())
        stored = self.store.get_stored(UUID1)
        self.assertEqual('deleting', stored.task)
        self.assertEqual(upgraded, stored.to_dict())
        # Written again, it says the same (no longer indented).
        self.store.set_task(UUID1, 'deleting')
        with open(os.path.join(self.path, UUID1, 'instance.json')) as f:
            self.assertEqual(upgraded, json.load(f))

    def test_the_stored_objects_are_immutable(self):
        self.store.save(record(), spec=spec(1))
        self.assertRaises(dataclasses.FrozenInstanceError, setattr,
                          self.store.get(UUID1), 'name', 'changed')
        self.assertIsInstance(self.store.get(UUID1).disks, tuple)

    def test_save_keeps_spec_and_fingerprint_unless_given(self):
        self.store.save(record(), spec=spec(1), fingerprint='one')
        self.store.save(record(state='shutoff'))
        entry = self.store.get_stored(UUID1)
        self.assertEqual('shutoff', entry.record.state)
        self.assertEqual(spec(1), entry.spec)
        self.assertEqual('one', entry.fingerprint)
        self.store.save(record(), spec=spec(2))
        self.assertEqual(spec(2), self.store.get_stored(UUID1).spec)
        self.assertEqual('one', self.store.get_stored(UUID1).fingerprint)

    def test_list_is_ordered_by_creation_then_uuid(self):
        self.store.save(record(UUID3, created_at='2026-01-01T00:00:01Z'))
        self.store.save(record(UUID2, created_at='2026-01-01T00:00:00Z'))
        self.store.save(record(UUID1, created_at='2026-01-01T00:00:00Z'))
        self.assertEqual([UUID1, UUID2, UUID3],
                         [r.uuid for r in self.store.list()])


class TestUpdate(StoreTestCase):

    def test_update_changes_fields_and_writes(self):
        self.store.save(record(), spec=spec(1), fingerprint='f')
        updated = self.store.update(UUID1, state='paused', error='x')
        self.assertEqual(record(state='paused', error='x'), updated)
        entry = self.reloaded().get_stored(UUID1)
        self.assertEqual(record(state='paused', error='x'), entry.record)
        self.assertEqual(spec(1), entry.spec)
        self.assertEqual('f', entry.fingerprint)

    def test_update_replaces_the_spec_when_given(self):
        self.store.save(record(), spec=spec(1))
        self.store.update(UUID1, spec=spec(2), disks=())
        entry = self.reloaded().get_stored(UUID1)
        self.assertEqual(spec(2), entry.spec)
        self.assertEqual((), entry.record.disks)

    def test_update_keeps_the_unfinished_detaches_apart(self):
        self.store.save(record())
        self.store.update(UUID1, detaching=('vdb',))
        self.assertEqual(('vdb',),
                         self.reloaded().get_stored(UUID1).detaching)
        self.store.update(UUID1, state='paused')
        self.assertEqual(('vdb',),
                         self.reloaded().get_stored(UUID1).detaching)
        self.assertEqual(record(state='paused'), self.store.get(UUID1))
        self.store.update(UUID1, detaching=())
        with open(os.path.join(self.path, UUID1, 'instance.json')) as f:
            self.assertNotIn('detaching', json.load(f))

    def test_update_of_an_unknown_uuid(self):
        error = self.assertRaises(exception.InstanceNotFound,
                                  self.store.update, UUID1, state='x')
        self.assertIn(UUID1, str(error))
        self.assertFalse(os.path.exists(self.store.instance_dir(UUID1)))

    def test_set_task_is_kept_apart_from_the_record(self):
        self.store.save(record())
        self.store.set_task(UUID1, 'deleting')
        self.assertEqual('deleting', self.reloaded().get_stored(UUID1).task)
        self.assertEqual(record(), self.store.get(UUID1))
        self.store.set_task(UUID1, None)
        with open(os.path.join(self.path, UUID1, 'instance.json')) as f:
            self.assertNotIn('task', json.load(f))


class TestDelete(StoreTestCase):

    def test_delete_forgets_the_record_and_its_file(self):
        self.store.save(record())
        self.store.save(record(UUID2))
        self.store.delete(UUID1)
        self.assertIsNone(self.store.get(UUID1))
        self.assertEqual([UUID2], [r.uuid for r in self.store.list()])
        self.assertFalse(os.path.exists(
            os.path.join(self.path, UUID1, store.RECORD_FILE)))
        # The directory is the caller's to remove (disks may be in it).
        self.assertTrue(os.path.isdir(self.store.instance_dir(UUID1)))
        self.assertEqual({UUID2}, self.reloaded().uuids())

    def test_delete_of_an_unknown_uuid_is_harmless(self):
        self.store.delete(UUID1)
        self.store.save(record())
        os.unlink(os.path.join(self.path, UUID1, store.RECORD_FILE))
        self.store.delete(UUID1)
        self.assertIsNone(self.store.get(UUID1))


class TestAtomicWrites(StoreTestCase):

    def test_a_failed_write_keeps_the_old_record(self):
        self.store.save(record(), spec=spec(1))
        # json cannot encode a set: the write fails half-way.
        self.assertRaises(TypeError, self.store.save,
                          record(state='paused', error={1, 2}))
        self.assertRaises(TypeError, self.store.update, UUID1,
                          state='paused', error=object())
        self.assertEqual(record(), self.store.get(UUID1))
        self.assertEqual(record(), self.reloaded().get(UUID1))
        self.assertEqual([], self.stray_files(UUID1))

    def test_a_failed_rename_keeps_the_old_record(self):
        self.store.save(record())
        self.useFixture(fixtures.MockPatch(
            'os.replace', side_effect=OSError(5, 'Input/output error')))
        self.assertRaises(OSError, self.store.update, UUID1,
                          state='paused')
        self.assertEqual('running', self.store.get(UUID1).state)
        self.assertEqual('running', self.reloaded().get(UUID1).state)
        self.assertEqual([], self.stray_files(UUID1))

    def test_the_write_is_synced_before_the_rename(self):
        calls = []
        real_fsync = os.fsync
        real_replace = os.replace

        def fsync(fd):
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                # Which directory: the rename must be made durable too.
                calls.append(os.readlink('/proc/self/fd/%d' % fd))
            else:
                calls.append('fsync')
            return real_fsync(fd)

        def replace(src, dst):
            calls.append('replace')
            return real_replace(src, dst)
        self.useFixture(fixtures.MonkeyPatch('os.fsync', fsync))
        self.useFixture(fixtures.MonkeyPatch('os.replace', replace))
        directory = os.path.realpath(self.store.instance_dir(UUID1))
        self.store.save(record())
        # A new directory: its own entry in instances_path as well.
        self.assertEqual(['fsync', 'replace', directory,
                          os.path.realpath(self.path)], calls)
        del calls[:]
        self.store.update(UUID1, state='paused')
        self.assertEqual(['fsync', 'replace', directory], calls)


class TestLoadAll(StoreTestCase):

    def write(self, name, data):
        directory = os.path.join(self.path, name)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, store.RECORD_FILE), 'wb') as f:
            f.write(data)

    def test_records_survive_a_restart(self):
        self.store.save(record(), spec=spec(1), fingerprint='f1')
        self.store.save(record(UUID2, state='shutoff'),
                        spec=spec(2, UUID2), fingerprint='f2')
        other = store.InstanceStore(self.path)
        self.assertIsNone(other.get(UUID1))
        self.assertEqual(2, other.load_all())
        self.assertEqual(self.store.get_stored(UUID1),
                         other.get_stored(UUID1))
        self.assertEqual(self.store.list(), other.list())

    def test_missing_instances_path(self):
        self.assertEqual(0, self.store.load_all())
        self.assertEqual([], self.store.list())

    def test_unreadable_records_are_skipped(self):
        self.store.save(record(), spec=spec(1), fingerprint='f')
        self.write(UUID2, b'{"record": {"uuid": ')         # cut short
        self.write(UUID3, b'[1, 2]')                        # not a mapping
        self.write(UUID4, b'{"spec": {}}')                  # no record
        self.write(UUID5, b'{"record": {"name": "x"}}')     # no uuid
        self.write('c-dir', b'\xff\xfe{}')   # not an instance's: not read
        os.makedirs(os.path.join(self.path, '_base'))      # image cache
        with open(os.path.join(self.path, 'stray'), 'w') as f:
            f.write('x')
        log = self.useFixture(fixtures.FakeLogger(level=logging.ERROR))
        other = store.InstanceStore(self.path)
        self.assertEqual(1, other.load_all())
        self.assertEqual({UUID1}, other.uuids())
        for name in (UUID2, UUID3, UUID4, UUID5):
            self.assertIn(os.path.join(self.path, name, store.RECORD_FILE),
                          log.output)
        self.assertNotIn(UUID1, log.output)
        self.assertNotIn('c-dir', log.output)

    def test_load_all_replaces_what_was_known(self):
        self.store.save(record())
        other = store.InstanceStore(self.path)
        other.save(record(UUID2))
        self.store.delete(UUID1)
        # UUID2 was written by the other store; UUID1's file is gone.
        self.assertEqual(1, self.store.load_all())
        self.assertEqual({UUID2}, self.store.uuids())


class TestNoRoom(StoreTestCase):
    """A record write on a full filesystem (or over a quota)."""

    def no_room(self, code=errno.ENOSPC):
        self.useFixture(fixtures.MockPatch(
            'os.fsync', side_effect=OSError(code, os.strerror(code))))

    def test_a_change_without_room_changes_nothing(self):
        self.store.save(record(), spec=spec(1))
        self.no_room()
        error = self.assertRaises(exception.InsufficientResources,
                                  self.store.update, UUID1, state='shutoff')
        self.assertIn('writing %s (the record of instance %s)'
                      % (os.path.join(self.store.instance_dir(UUID1),
                                      store.RECORD_FILE), UUID1),
                      str(error))
        self.assertEqual('running', self.store.get(UUID1).state)
        self.assertEqual([], self.stray_files(UUID1))
        self.assertEqual('running', self.reloaded().get(UUID1).state)

    def test_a_new_record_without_room_is_not_kept(self):
        self.no_room(errno.EDQUOT)
        self.assertRaises(exception.InsufficientResources, self.store.save,
                          record())
        self.assertIsNone(self.store.get(UUID1))
        self.assertEqual([], self.stray_files(UUID1))

    def test_other_write_errors_are_not_room(self):
        self.no_room(errno.EIO)
        error = self.assertRaises(OSError, self.store.save, record())
        self.assertEqual(errno.EIO, error.errno)
