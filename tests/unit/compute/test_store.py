"""Tests of the instance records (computeagent.compute.store)."""

import json
import logging
import os
import stat

import fixtures

from computeagent.compute import store
from computeagent import exception
from tests import base

UUID1 = '11111111-2222-4333-8444-000000000001'
UUID2 = '11111111-2222-4333-8444-000000000002'
UUID3 = '11111111-2222-4333-8444-000000000003'


def record(uuid=UUID1, created_at='2026-01-01T00:00:00Z', **fields):
    result = {'uuid': uuid, 'name': 'vm', 'host': 'test-host',
              'state': 'running', 'vcpus': 1, 'memory_mb': 128,
              'disks': [{'target': 'vda'}], 'serial_ports': [],
              'console_log': None, 'created_at': created_at,
              'metadata': {'k': 'v'}, 'error': None}
    result.update(fields)
    return result


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
        saved = self.store.save(record(), spec={'uuid': UUID1},
                                fingerprint='abc')
        self.assertEqual(record(), saved)
        self.assertEqual(record(), self.store.get(UUID1))
        self.assertEqual({'record': record(), 'spec': {'uuid': UUID1},
                          'fingerprint': 'abc'},
                         self.store.get_stored(UUID1))
        self.assertEqual({UUID1}, self.store.uuids())

    def test_unknown_uuid(self):
        self.assertIsNone(self.store.get(UUID1))
        self.assertIsNone(self.store.get_stored(UUID1))
        self.assertEqual([], self.store.list())
        self.assertEqual(set(), self.store.uuids())

    def test_record_file_is_json_under_the_instance_dir(self):
        self.store.save(record(), spec={'s': 1}, fingerprint='f')
        self.assertEqual(os.path.join(self.path, UUID1),
                         self.store.instance_dir(UUID1))
        with open(os.path.join(self.path, UUID1, 'instance.json')) as f:
            self.assertEqual({'record': record(), 'spec': {'s': 1},
                              'fingerprint': 'f'}, json.load(f))
        self.assertEqual([], self.stray_files(UUID1))

    def test_callers_cannot_change_the_stored_record(self):
        mine = record()
        returned = self.store.save(mine, spec={'disks': [1]})
        mine['disks'].append('mine')
        returned['disks'].append('returned')
        self.store.get(UUID1)['metadata']['x'] = 'y'
        self.store.get_stored(UUID1)['spec']['disks'].append(2)
        self.store.list()[0]['name'] = 'changed'
        self.assertEqual(record(), self.store.get(UUID1))
        self.assertEqual({'disks': [1]},
                         self.store.get_stored(UUID1)['spec'])

    def test_save_keeps_spec_and_fingerprint_unless_given(self):
        self.store.save(record(), spec={'v': 1}, fingerprint='one')
        self.store.save(record(state='shutoff'))
        entry = self.store.get_stored(UUID1)
        self.assertEqual('shutoff', entry['record']['state'])
        self.assertEqual({'v': 1}, entry['spec'])
        self.assertEqual('one', entry['fingerprint'])
        self.store.save(record(), spec={'v': 2})
        self.assertEqual({'v': 2}, self.store.get_stored(UUID1)['spec'])
        self.assertEqual('one', self.store.get_stored(UUID1)['fingerprint'])

    def test_list_is_ordered_by_creation_then_uuid(self):
        self.store.save(record(UUID3, created_at='2026-01-01T00:00:01Z'))
        self.store.save(record(UUID2, created_at='2026-01-01T00:00:00Z'))
        self.store.save(record(UUID1, created_at='2026-01-01T00:00:00Z'))
        self.assertEqual([UUID1, UUID2, UUID3],
                         [r['uuid'] for r in self.store.list()])


class TestUpdate(StoreTestCase):

    def test_update_changes_fields_and_writes(self):
        self.store.save(record(), spec={'v': 1}, fingerprint='f')
        updated = self.store.update(UUID1, state='paused', error='x')
        self.assertEqual(record(state='paused', error='x'), updated)
        entry = self.reloaded().get_stored(UUID1)
        self.assertEqual(record(state='paused', error='x'), entry['record'])
        self.assertEqual({'v': 1}, entry['spec'])
        self.assertEqual('f', entry['fingerprint'])

    def test_update_replaces_the_spec_when_given(self):
        self.store.save(record(), spec={'v': 1})
        self.store.update(UUID1, spec={'v': 2}, disks=[])
        entry = self.reloaded().get_stored(UUID1)
        self.assertEqual({'v': 2}, entry['spec'])
        self.assertEqual([], entry['record']['disks'])

    def test_update_of_an_unknown_uuid(self):
        error = self.assertRaises(exception.InstanceNotFound,
                                  self.store.update, UUID1, state='x')
        self.assertIn(UUID1, str(error))
        self.assertFalse(os.path.exists(self.store.instance_dir(UUID1)))

    def test_update_copies_its_arguments(self):
        self.store.save(record())
        disks = [{'target': 'vdb'}]
        self.store.update(UUID1, disks=disks)
        disks.append({'target': 'vdc'})
        self.assertEqual([{'target': 'vdb'}], self.store.get(UUID1)['disks'])


class TestDelete(StoreTestCase):

    def test_delete_forgets_the_record_and_its_file(self):
        self.store.save(record())
        self.store.save(record(UUID2))
        self.store.delete(UUID1)
        self.assertIsNone(self.store.get(UUID1))
        self.assertEqual([UUID2], [r['uuid'] for r in self.store.list()])
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
        self.store.save(record(), spec={'v': 1})
        # json cannot encode a set: the write fails half-way.
        self.assertRaises(TypeError, self.store.save,
                          record(state='paused', metadata={1, 2}))
        self.assertRaises(TypeError, self.store.update, UUID1,
                          state='paused', error=object())
        self.assertEqual(record(), self.store.get(UUID1))
        self.assertEqual(record(), self.reloaded().get(UUID1))
        self.assertEqual([], self.stray_files(UUID1))

    def test_a_failed_rename_keeps_the_old_record(self):
        self.store.save(record())
        self.useFixture(fixtures.MockPatch(
            'os.replace', side_effect=OSError(28, 'No space left')))
        self.assertRaises(OSError, self.store.update, UUID1,
                          state='paused')
        self.assertEqual('running', self.store.get(UUID1)['state'])
        self.assertEqual('running', self.reloaded().get(UUID1)['state'])
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
        self.store.save(record(), spec={'v': 1}, fingerprint='f1')
        self.store.save(record(UUID2, state='shutoff'), spec={'v': 2},
                        fingerprint='f2')
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
        self.store.save(record(), spec={}, fingerprint='f')
        self.write(UUID2, b'{"record": {"uuid": ')         # cut short
        self.write(UUID3, b'[1, 2]')                        # not a mapping
        self.write('a-dir', b'{"spec": {}}')                # no record
        self.write('b-dir', b'{"record": {"name": "x"}}')   # no uuid
        self.write('c-dir', b'\xff\xfe{}')                  # not UTF-8
        os.makedirs(os.path.join(self.path, '_base'))      # image cache
        with open(os.path.join(self.path, 'stray'), 'w') as f:
            f.write('x')
        log = self.useFixture(fixtures.FakeLogger(level=logging.ERROR))
        other = store.InstanceStore(self.path)
        self.assertEqual(1, other.load_all())
        self.assertEqual({UUID1}, other.uuids())
        for name in (UUID2, UUID3, 'a-dir', 'b-dir', 'c-dir'):
            self.assertIn(os.path.join(self.path, name, store.RECORD_FILE),
                          log.output)
        self.assertNotIn(UUID1, log.output)

    def test_load_all_replaces_what_was_known(self):
        self.store.save(record())
        other = store.InstanceStore(self.path)
        other.save(record(UUID2))
        self.store.delete(UUID1)
        # UUID2 was written by the other store; UUID1's file is gone.
        self.assertEqual(1, self.store.load_all())
        self.assertEqual({UUID2}, self.store.uuids())
