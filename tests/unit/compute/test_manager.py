"""Tests of the RPC endpoint (computeagent.api.endpoint) on the fake driver.

Creating, deleting and reading instances, the errors of docs/api.md, the
rules of the RPC wrapper, restarts, resources and concurrent builds.
State changes are in test_manager_states, disks and the console in
test_manager_disks (their admission in test_manager_disk_room), creates
refused in a taken place in test_manager_taken, concurrent requests in
test_manager_concurrency.
"""

import errno
import os

import fixtures
from oslo_utils import units

from computeagent.compute import store as store_mod
from computeagent import exception
from computeagent.objects import record as record_obj
from computeagent import version
from computeagent_fake import driver as fake_driver
from tests.unit import agentfixtures

DISK_KEYS = {'target', 'device', 'bus', 'path', 'format', 'boot_index',
             'cache', 'aio', 'snapshot'}
BAD_UUIDS = ('not-a-uuid', '', None, 42,
             '11111111-2222-4333-8444-55555555555',    # short
             '11111111-2222-4333-8444-55555555555A',   # upper case
             '{11111111-2222-4333-8444-555555555555}')


class TestCreate(agentfixtures.ManagerTestCase):

    def test_create_returns_a_running_record(self):
        uuid = agentfixtures.new_uuid()
        record = self.create(uuid, name='web-1', vcpus=2, memory_mb=256,
                             metadata={'owner': 'me'})
        self.assertEqual(set(record_obj.RECORD_KEYS), set(record))
        self.assertEqual(uuid, record['uuid'])
        self.assertEqual('web-1', record['name'])
        self.assertEqual('test-host', record['host'])
        self.assertEqual('running', record['state'])
        self.assertEqual((2, 256), (record['vcpus'], record['memory_mb']))
        self.assertEqual({'owner': 'me'}, record['metadata'])
        self.assertIsNone(record['error'])
        self.assertTrue(record['created_at'].endswith('Z'))
        self.assertEqual([{'target': 'vda', 'device': 'disk',
                           'bus': 'virtio', 'format': 'qcow2',
                           'path': os.path.join(self.instance_dir(uuid),
                                                'disk'),
                           'boot_index': None, 'cache': 'none',
                           'aio': 'threads', 'snapshot': False}],
                         record['disks'])
        console = os.path.join(self.instance_dir(uuid), 'console.log')
        self.assertEqual([{'index': 0, 'type': 'file', 'path': console,
                           'log_file': console, 'host': None,
                           'port': None, 'bind_host': None,
                           'bind_port': None}], record['serial_ports'])
        self.assertEqual([], record['parallel_ports'])
        self.assertEqual(console, record['console_log'])
        self.assertTrue(os.path.isfile(console))
        self.assertEqual(record, self.call('get_instance', uuid=uuid))
        self.assertEqual([record], self.call('list_instances'))

    def test_the_normalized_spec_is_stored(self):
        spec = agentfixtures.make_spec(
            disks=[{'source': {'image': 'a'}},
                   {'source': {'blank': True}, 'size_mb': 8, 'bus': 'sata'},
                   {'source': {'image': 'b.iso'}, 'device': 'cdrom'}],
            nics=[{'type': 'user'}])
        record = self.call('create_instance', spec=spec)
        self.assertEqual(['vda', 'sda', 'sdb'],
                         [d['target'] for d in record['disks']])
        self.assertEqual('fake://image/b.iso', record['disks'][2]['path'])
        stored = self.store.get_stored(spec['uuid']).spec
        self.assertEqual(['vda', 'sda', 'sdb'],
                         [d.target for d in stored.disks])
        # The driver's MAC is kept so a restart gives the nic the same.
        self.assertRegex(stored.nics[0].mac,
                         r'^52:54:00(:[0-9a-f]{2}){3}$')

    def test_the_same_spec_twice_is_one_instance(self):
        spawn = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'spawn', wraps=self.driver.spawn)).mock
        spec = agentfixtures.make_spec(metadata={'a': '1', 'b': '2'})
        first = self.call('create_instance', spec=spec)
        # Key order does not make a request different.
        again = dict(reversed(list(spec.items())),
                     metadata={'b': '2', 'a': '1'})
        self.assertEqual(first, self.call('create_instance', spec=again))
        self.assertEqual(1, spawn.call_count)
        self.assertEqual([first], self.call('list_instances'))

    def test_a_different_spec_with_a_known_uuid(self):
        first = self.create(vcpus=1)
        error = self.assertRaises(exception.InstanceExists, self.create,
                                  first['uuid'], vcpus=2)
        self.assertIn(first['uuid'], str(error))
        self.assertEqual(first, self.call('get_instance',
                                          uuid=first['uuid']))

    def test_an_invalid_spec_leaves_nothing(self):
        uuid = agentfixtures.new_uuid()
        error = self.assertRaises(exception.InvalidSpec, self.create, uuid,
                                  vcpus=0)
        self.assertEqual('vcpus', error.field)
        error = self.assertRaises(exception.InvalidSpec, self.create, uuid,
                                  disks=[{'source': {'image': 'a'},
                                          'bus': 'usb'}])
        self.assertEqual('disks[0].bus', error.field)
        self.assertRaises(exception.InvalidSpec, self.call,
                          'create_instance', spec='not a mapping')
        self.assertEqual([], self.call('list_instances'))
        self.assertEqual({}, self.driver.list_power_states())
        self.assertEqual([], os.listdir(self.conf.instances_path))

    def test_a_failed_spawn_leaves_nothing(self):
        real_spawn = self.driver.spawn

        def spawn(spec, timings=None):
            # Fail after the driver made its files and guest.
            real_spawn(spec, timings)
            raise exception.DriverError(reason='no bridge br9')
        self.useFixture(fixtures.MockPatchObject(self.driver, 'spawn',
                                                 side_effect=spawn))
        uuid = agentfixtures.new_uuid()
        error = self.assertRaises(exception.DriverError, self.create, uuid)
        self.assertIn('no bridge br9', str(error))
        self.assertRaises(exception.InstanceNotFound, self.call,
                          'get_instance', uuid=uuid)
        self.assertIsNone(self.store.get_stored(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.assertEqual({}, self.driver.list_power_states())
        self.assertEqual(0, store_mod.InstanceStore(
            self.conf.instances_path).load_all())

    def test_a_failed_spawn_frees_its_build_slot(self):
        self.flags(max_concurrent_builds=1)
        self.rebuild_manager()
        with fixtures.MockPatchObject(
                self.driver, 'spawn',
                side_effect=exception.DriverError(reason='x')):
            self.assertRaises(exception.DriverError, self.create)
            self.assertRaises(exception.DriverError, self.create)
        # With a slot lost this would wait (until the test's timeout).
        self.assertEqual('running', self.create()['state'])

    def test_a_record_that_cannot_be_written_leaves_nothing(self):
        # (A filesystem without room: test_manager_disk_full.)
        self.useFixture(fixtures.MockPatch(
            'os.replace', side_effect=OSError(5, 'Input/output error')))
        uuid = agentfixtures.new_uuid()
        error = self.assertRaises(exception.DriverError, self.create, uuid)
        self.assertIn('Input/output error', str(error))
        self.assertIsNone(self.store.get(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.assertEqual({}, self.driver.list_power_states())

    def test_unexpected_errors_become_driver_errors(self):
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'spawn', side_effect=KeyError('disks')))
        uuid = agentfixtures.new_uuid()
        error = self.assertRaises(exception.DriverError, self.create, uuid)
        self.assertIn("KeyError: 'disks'", str(error))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))

    def test_a_rollback_the_driver_cannot_finish_is_finished_later(self):
        # The record says so meanwhile: nothing the driver made is
        # forgotten while it may still be there.
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'spawn',
            side_effect=exception.DriverError(reason='spawn')))
        destroy = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'destroy',
            side_effect=exception.DriverError(reason='destroy'))).mock
        uuid = agentfixtures.new_uuid()
        error = self.assertRaises(exception.DriverError, self.create, uuid)
        self.assertIn('spawn', str(error))
        record = self.store.get(uuid)
        self.assertEqual('error', record.state)
        self.assertIn('rollback of the failed create', record.error)
        self.assertIn('destroy', record.error)
        destroy.side_effect = None
        self.manager.reconciler.reconcile()
        self.assertIsNone(self.store.get(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))

    def test_a_running_record_that_cannot_be_written_rolls_back(self):
        real_save = self.store.save
        saves = []

        def save(record, **kwargs):
            saves.append(record.state)
            if record.state == 'running':
                raise OSError(errno.EIO, 'I/O error')
            return real_save(record, **kwargs)
        self.useFixture(fixtures.MockPatchObject(self.store, 'save',
                                                 side_effect=save))
        uuid = agentfixtures.new_uuid()
        self.assertRaises(exception.DriverError, self.create, uuid)
        self.assertEqual(['building', 'running'], saves)
        self.assertEqual({}, self.driver.list_power_states())
        self.assertIsNone(self.store.get(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))

    def test_the_same_create_again_finishes_the_rollback_first(self):
        spawn = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'spawn', wraps=self.driver.spawn,
            side_effect=exception.DriverError(reason='spawn'))).mock
        destroy = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'destroy',
            side_effect=exception.DriverError(reason='destroy'))).mock
        uuid = agentfixtures.new_uuid()
        self.assertRaises(exception.DriverError, self.create, uuid)
        # Still unreachable: the repeat says why it cannot start.
        error = self.assertRaises(exception.DriverError, self.create, uuid)
        self.assertIn('cannot be removed yet', str(error))
        spawn.side_effect = None
        destroy.side_effect = None
        self.assertEqual('running', self.create(uuid)['state'])


class TestResources(agentfixtures.ManagerTestCase):

    def test_memory_beyond_reserved(self):
        self.flags(reserved_host_memory_mb=fake_driver.FAKE_MEMORY_MB - 256)
        self.create(memory_mb=128)
        self.create(memory_mb=128)
        uuid = agentfixtures.new_uuid()
        error = self.assertRaises(exception.InsufficientResources,
                                  self.create, uuid, memory_mb=16)
        self.assertIn('16 MiB of memory asked, 0 MiB of 256 MiB free',
                      str(error))
        self.assertIsNone(self.store.get(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.assertEqual(2, len(self.call('list_instances')))

    def test_ram_allocation_ratio(self):
        self.flags(reserved_host_memory_mb=0, ram_allocation_ratio=0.5)
        half = fake_driver.FAKE_MEMORY_MB // 2
        self.assertRaises(exception.InsufficientResources, self.create,
                          memory_mb=half + 1)
        self.create(memory_mb=half)
        self.assertRaises(exception.InsufficientResources, self.create,
                          memory_mb=16)
        self.flags(ram_allocation_ratio=1.5)
        self.create(memory_mb=half * 2)

    def test_deleting_frees_memory(self):
        self.flags(reserved_host_memory_mb=fake_driver.FAKE_MEMORY_MB - 128)
        first = self.create(memory_mb=128)
        self.assertRaises(exception.InsufficientResources, self.create,
                          memory_mb=128)
        self.call('delete_instance', uuid=first['uuid'])
        self.create(memory_mb=128)

    def test_host_status(self):
        self.create(vcpus=2, memory_mb=256)
        self.create(vcpus=3, memory_mb=512)
        status = self.call('get_host_status')
        stat = os.statvfs(self.conf.instances_path)
        self.assertEqual(
            {'host': 'test-host', 'driver': 'fake', 'hypervisor': 'fake',
             'vcpus': fake_driver.FAKE_VCPUS, 'vcpus_used': 5,
             'memory_mb': fake_driver.FAKE_MEMORY_MB,
             'memory_mb_used': 768,
             'disk_gb': stat.f_blocks * stat.f_frsize // 1024 ** 3,
             'disk_gb_free': status['disk_gb_free'],
             'disk_mb': stat.f_blocks * stat.f_frsize // 1024 ** 2,
             'disk_mb_free': status['disk_mb_free'],
             'instances': 2, 'version': version.version_string(),
             'notifications_dropped': 0},
            status)
        self.assertEqual(status, self.manager.host_status())

    def test_host_status_disk_in_gib_for_1_0_and_exact_mib(self):
        # A 64.5 MiB filesystem with 3 MiB and a few bytes free.
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'get_host_resources', return_value={
                'hypervisor': 'fake', 'vcpus': 1, 'memory_mb': 1024,
                'disk_bytes': 64 * units.Mi + 512 * units.Ki,
                'disk_bytes_free': 3 * units.Mi + 17}))
        status = self.call('get_host_status')
        self.assertEqual((0, 0, 64, 3),
                         (status['disk_gb'], status['disk_gb_free'],
                          status['disk_mb'], status['disk_mb_free']))

    def test_host_status_names_the_loaded_driver(self):
        # The driver's own name, whatever the option said when the service
        # was given a driver object.
        self.flags(virt_driver='libvirt')
        self.assertEqual('fake', self.call('get_host_status')['driver'])


class TestDelete(agentfixtures.ManagerTestCase):

    def test_delete_removes_record_guest_and_directory(self):
        uuid = self.create()['uuid']
        with open(os.path.join(self.instance_dir(uuid), 'disk'), 'w'):
            pass
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         self.call('delete_instance', uuid=uuid))
        self.assertRaises(exception.InstanceNotFound, self.call,
                          'get_instance', uuid=uuid)
        self.assertEqual([], self.call('list_instances'))
        self.assertEqual({}, self.driver.list_power_states())
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.assertRaises(exception.InstanceNotFound, self.call,
                          'delete_instance', uuid=uuid)

    def test_delete_keeps_other_instances(self):
        keep = self.create()
        self.call('delete_instance', uuid=self.create()['uuid'])
        self.assertEqual([keep], self.call('list_instances'))
        self.assertTrue(os.path.isdir(self.instance_dir(keep['uuid'])))

    def test_a_failed_destroy_keeps_the_record(self):
        uuid = self.create()['uuid']
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'destroy',
            side_effect=exception.DriverError(reason='busy')))
        self.assertRaises(exception.DriverError, self.call,
                          'delete_instance', uuid=uuid)
        record = self.call('get_instance', uuid=uuid)
        self.assertEqual('error', record['state'])
        self.assertIn('the delete could not be finished yet', record['error'])
        self.assertTrue(os.path.isdir(self.instance_dir(uuid)))

    def test_the_same_uuid_can_be_created_again_after_delete(self):
        uuid = self.create()['uuid']
        self.call('delete_instance', uuid=uuid)
        self.assertEqual('running', self.create(uuid, vcpus=4)['state'])


class TestArguments(agentfixtures.ManagerTestCase):
    """Checks every API method shares: uuids, names of arguments."""

    UUID_METHODS = ('get_instance', 'delete_instance', 'reboot_instance',
                    'stop_instance', 'start_instance', 'pause_instance',
                    'unpause_instance', 'suspend_instance',
                    'resume_instance', 'get_console_output')

    def test_unknown_uuid(self):
        uuid = agentfixtures.new_uuid()
        self.create()
        for method in self.UUID_METHODS:
            error = self.assertRaises(exception.InstanceNotFound, self.call,
                                      method, uuid=uuid)
            self.assertIn(uuid, str(error))
        for method, kwargs in (('attach_disk', {'disk': {
                                   'source': {'blank': True},
                                   'size_mb': 1}}),
                               ('detach_disk', {'target': 'vdb'}),
                               ('change_media', {'target': 'sda'}),
                               ('commit_disk', {'target': 'vda'}),
                               ('commit_disk', {}),
                               ('set_boot_order', {'boot_order': ['vda']})):
            self.assertRaises(exception.InstanceNotFound, self.call,
                              method, uuid=uuid, **kwargs)

    def test_bad_uuid(self):
        for method in self.UUID_METHODS:
            for bad in BAD_UUIDS:
                error = self.assertRaises(exception.InvalidSpec, self.call,
                                          method, uuid=bad)
                self.assertEqual('uuid', error.field, (method, bad))

    def test_unknown_argument(self):
        uuid = self.create()['uuid']
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'get_instance', uuid=uuid, verbose=True)
        self.assertEqual('get_instance', error.field)
        self.assertIn('verbose', str(error))
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'reboot_instance', uuid=uuid, force=True)
        self.assertIn('force', str(error))
        self.assertEqual('running',
                         self.call('get_instance', uuid=uuid)['state'])

    def test_missing_argument(self):
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'get_instance')
        self.assertIn('uuid', str(error))
        self.assertRaises(exception.InvalidSpec, self.call,
                          'create_instance')

    def test_every_api_method_is_exposed_and_nothing_else(self):
        exposed = sorted(name for name in dir(self.endpoint)
                         if getattr(getattr(self.endpoint, name), 'exposed',
                                    False))
        self.assertEqual(sorted(
            ['create_instance', 'render_instance', 'delete_instance',
             'get_instance', 'list_instances', 'reboot_instance',
             'stop_instance', 'start_instance', 'pause_instance',
             'unpause_instance', 'suspend_instance', 'resume_instance',
             'get_console_output', 'attach_disk', 'detach_disk',
             'change_media', 'commit_disk', 'migrate_instance',
             'get_host_status', 'get_serial_console',
             'set_boot_order']), exposed)

    def test_render_creates_nothing(self):
        spec = agentfixtures.make_spec()
        plan = self.call('render_instance', spec=spec)
        self.assertIn(spec['uuid'], plan['domain_xml'])
        self.assertEqual(['vda'], [d['target'] for d in plan['disks']])
        self.assertEqual([], os.listdir(self.conf.instances_path))
        self.assertRaises(exception.InstanceNotFound, self.call,
                          'get_instance', uuid=spec['uuid'])
        self.assertRaises(exception.InvalidSpec, self.call,
                          'render_instance', spec=dict(spec, video='svga'))


class TestRestart(agentfixtures.ManagerTestCase):

    def test_records_survive_a_restart(self):
        first = self.create(name='one')
        second = self.create(name='two')
        self.call('stop_instance', uuid=second['uuid'])
        # A new agent process: a new store and manager, the same disks
        # and the same (still running) hypervisor.
        restarted = agentfixtures.build_endpoint(self.conf, self.driver)
        self.assertEqual(2, restarted.manager.store.load_all())
        listed = self.call('list_instances', restarted)
        self.assertEqual([first['uuid'], second['uuid']],
                         [r['uuid'] for r in listed])
        self.assertEqual(['running', 'shutoff'],
                         [r['state'] for r in listed])
        self.assertEqual(self.store.get_stored(first['uuid']),
                         restarted.manager.store.get_stored(first['uuid']))
        # The restarted agent operates on what it loaded...
        self.assertEqual('running', self.call(
            'start_instance', restarted, uuid=second['uuid'])['state'])
        # ...and a retried create is still recognised.
        spec = agentfixtures.make_spec(first['uuid'], name='one')
        self.assertEqual(first, self.call('create_instance', restarted,
                                          spec=spec))
