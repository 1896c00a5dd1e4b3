"""Start-up recovery (computeagent.compute.recovery) on the fake driver.

A restart is a new store loaded from disk (and a new manager) over the
same fake driver, whose guests play a hypervisor that outlived the
agent. What a crash leaves behind is made with the manager and then
edited the way the crash would have left it.
"""

import json
import os

import fixtures

from computeagent.api import outbox
from computeagent.compute import reconciler
from computeagent.compute import recovery
from computeagent.compute import store as store_mod
from computeagent import exception
from computeagent.schema import instance
from computeagent.virt import layout
from tests.unit import agentfixtures

AGENT_FILES = ('disk', 'disk.vdb', 'disk.vdb.snapshot', 'console.log',
               'console.log.0', 'console.1.log', 'console.1.log.2',
               'serial0.sock')


class RecoveryTestCase(agentfixtures.ManagerTestCase):

    def restart(self):
        """Recover as a new agent process would; returns the counts."""
        self.rebuild_manager()
        self.store.load_all()
        return recovery.recover(self.manager.reconciler)

    def guest_state(self, uuid):
        return self.driver.get_power_state(agentfixtures.instance_of(uuid))

    def assertGone(self, uuid):
        self.assertIsNone(self.store.get(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.assertIsNone(self.guest_state(uuid))
        self.assertRaises(exception.InstanceNotFound, self.call,
                          'get_instance', uuid=uuid)


class TestRecords(RecoveryTestCase):

    def test_guests_are_adopted_in_the_hypervisors_state(self):
        expected = {}
        for state in ('running', 'paused', 'suspended', 'shutoff',
                      'crashed'):
            uuid = self.create()['uuid']
            agentfixtures.set_guest_state(self.driver, uuid, state)
            expected[uuid] = state
        done = self.restart()
        self.assertEqual({'adopted': 5}, dict(done))
        for uuid, state in expected.items():
            record = self.call('get_instance', uuid=uuid)
            self.assertEqual((state, None),
                             (record['state'], record['error']))
            self.assertEqual(state, self.guest_state(uuid))
        # Controllers hear of every change made while the agent was down,
        # and only of those: the running guest did not change.
        updates = {p['uuid']: (p['old_state'], p['state']) for p in
                   self.notifications.payloads('instance.power_state.update')}
        self.assertEqual({uuid: ('running', state)
                          for uuid, state in expected.items()
                          if state != 'running'}, updates)

    def test_a_vanished_guest_puts_the_record_in_error(self):
        uuid = self.create()['uuid']
        self.call('stop_instance', uuid=uuid)
        agentfixtures.set_guest_state(self.driver, uuid, None)
        self.assertEqual({'vanished': 1}, dict(self.restart()))
        record = self.call('get_instance', uuid=uuid)
        self.assertEqual('error', record['state'])
        self.assertIn('vanished from the hypervisor', record['error'])
        update, = self.notifications.payloads('instance.power_state.update')
        self.assertEqual(dict(record, old_state='shutoff'), update)
        self.assertTrue(os.path.isdir(self.instance_dir(uuid)))
        # The files are removed by the next delete, as usual.
        self.call('delete_instance', uuid=uuid)
        self.assertGone(uuid)

    def test_a_record_in_error_stays_in_error(self):
        kept = self.create()['uuid']
        self.store.update(kept, state='error', error='broken')
        lost = self.create()['uuid']
        self.store.update(lost, state='error', error='lost')
        agentfixtures.set_guest_state(self.driver, lost, None)
        self.assertEqual({'kept in error': 2}, dict(self.restart()))
        self.assertEqual(('error', 'broken'), (
            self.store.get(kept).state, self.store.get(kept).error))
        self.assertEqual('running', self.guest_state(kept))
        self.assertEqual('lost', self.store.get(lost).error)

    def test_an_interrupted_create_is_rolled_back(self):
        # The agent died after the guest started, before the running
        # record was saved: the create never answered, so it is undone.
        uuid = self.create()['uuid']
        self.store.update(uuid, state='building')
        other = self.create()['uuid']
        self.assertEqual({'create rolled back': 1, 'adopted': 1},
                         dict(self.restart()))
        self.assertGone(uuid)
        self.assertEqual('running', self.store.get(other).state)
        error = self.notifications.wait_for('instance.create.error')[0]
        self.assertEqual('ERROR', error['priority'])
        payload = error['payload']
        self.assertEqual((uuid, 'error', 'AgentRestarted'),
                         (payload['uuid'], payload['state'],
                          payload['error_type']))
        self.assertEqual(recovery.INTERRUPTED_CREATE, payload['error'])

    def test_a_create_interrupted_before_the_driver_made_anything(self):
        # Only the building record exists: no guest, no disk.
        uuid = agentfixtures.new_uuid()
        spec = instance.validate_spec(agentfixtures.make_spec(uuid),
                                      self.conf)
        self.store.save(self.manager.builder.new_record(spec), spec=spec)
        self.assertEqual(['instance.json'],
                         os.listdir(self.instance_dir(uuid)))
        self.restart()
        self.assertGone(uuid)

    def test_a_create_that_cannot_be_rolled_back_is_finished_later(self):
        uuid = self.create()['uuid']
        self.store.update(uuid, state='building')
        self.rebuild_manager()
        self.store.load_all()
        destroy = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'destroy',
            side_effect=exception.DriverError(reason='busy'))).mock
        done = recovery.recover(self.manager.reconciler)
        self.assertEqual({'create not rolled back': 1}, dict(done))
        record = self.call('get_instance', uuid=uuid)
        self.assertEqual('error', record['state'])
        self.assertIn('busy', record['error'])
        self.assertEqual(reconciler.ROLLING_BACK,
                         self.store.get_stored(uuid).task)
        # The create failed, and the controller that cast it is told.
        error = self.notifications.wait_for('instance.create.error')[0]
        self.assertEqual('AgentRestarted', error['payload']['error_type'])
        destroy.side_effect = None
        self.manager.reconciler.reconcile()
        self.assertGone(uuid)

    def test_an_interrupted_delete_is_finished(self):
        uuid = self.create()['uuid']
        self.store.set_task(uuid, reconciler.DELETING)
        self.assertEqual({'delete finished': 1}, dict(self.restart()))
        self.assertGone(uuid)
        end = self.notifications.wait_for('instance.delete.end')[0]
        self.assertEqual((uuid, 'deleted'), (end['payload']['uuid'],
                                             end['payload']['state']))

    def test_a_delete_that_cannot_be_finished_is_finished_by_delete(self):
        uuid = self.create()['uuid']
        self.store.set_task(uuid, reconciler.DELETING)
        self.rebuild_manager()
        self.store.load_all()
        destroy = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'destroy',
            side_effect=exception.DriverError(reason='busy'))).mock
        done = recovery.recover(self.manager.reconciler)
        self.assertEqual({'delete not finished': 1}, dict(done))
        record = self.call('get_instance', uuid=uuid)
        self.assertEqual('error', record['state'])
        self.assertIn('busy', record['error'])
        self.assertEqual(reconciler.DELETING,
                         self.store.get_stored(uuid).task)
        destroy.side_effect = None
        self.call('delete_instance', uuid=uuid)
        self.assertIsNone(self.store.get(uuid))


class TestDeleteMarksTheRecord(RecoveryTestCase):

    def test_the_task_is_on_disk_while_the_driver_destroys(self):
        uuid = self.create()['uuid']
        seen = []

        def destroy(record):
            with open(os.path.join(self.instance_dir(uuid),
                                   store_mod.RECORD_FILE)) as f:
                seen.append(json.load(f).get('task'))
        self.useFixture(fixtures.MockPatchObject(self.driver, 'destroy',
                                                 side_effect=destroy))
        self.call('delete_instance', uuid=uuid)
        self.assertEqual([reconciler.DELETING], seen)

    def test_the_task_is_not_in_the_public_record(self):
        uuid = self.create()['uuid']
        self.store.set_task(uuid, reconciler.DELETING)
        self.assertNotIn('task', self.call('get_instance', uuid=uuid))
        self.assertNotIn('task', self.call('list_instances')[0])

    def test_a_failed_destroy_keeps_the_task_until_it_is_finished(self):
        uuid = self.create()['uuid']
        destroy = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'destroy',
            side_effect=exception.DriverError(reason='busy'))).mock
        self.assertRaises(exception.DriverError, self.call,
                          'delete_instance', uuid=uuid)
        record = self.call('get_instance', uuid=uuid)
        self.assertEqual('error', record['state'])
        self.assertIn('busy', record['error'])
        self.rebuild_manager()
        self.store.load_all()
        self.assertEqual(reconciler.DELETING,
                         self.store.get_stored(uuid).task)
        # Once the driver can, a pass finishes what the controller asked.
        destroy.side_effect = None
        self.manager.reconciler.reconcile()
        self.assertGone(uuid)
        end = self.notifications.wait_for('instance.delete.end')[0]
        self.assertEqual(uuid, end['payload']['uuid'])

    def test_a_delete_with_the_guest_gone_completes(self):
        # A delete that died after the guest went but before the record
        # did, without a task (as an older agent would leave it).
        uuid = self.create()['uuid']
        agentfixtures.set_guest_state(self.driver, uuid, None)
        self.restart()
        self.assertEqual('error', self.store.get(uuid).state)
        self.call('delete_instance', uuid=uuid)
        self.assertGone(uuid)


class TestDirectories(RecoveryTestCase):

    def test_agent_files_without_a_record_are_removed(self):
        uuid = agentfixtures.new_uuid()
        self.make_instance_dir(uuid, AGENT_FILES + ('.instance.x1y2z3',))
        self.assertEqual({'orphan removed': 1}, dict(self.restart()))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))

    def test_an_empty_directory_is_removed(self):
        uuid = agentfixtures.new_uuid()
        self.make_instance_dir(uuid, ())
        self.restart()
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))

    def test_other_files_are_left(self):
        made = {agentfixtures.new_uuid(): extra for extra in (
            'notes.txt', 'disk.vda.bak', 'instance.json.old')}
        for uuid, extra in made.items():
            self.make_instance_dir(uuid, ('disk', extra))
        self.assertEqual({'orphan left': 3}, dict(self.restart()))
        for uuid, extra in made.items():
            self.assertEqual({'disk', extra},
                             set(os.listdir(self.instance_dir(uuid))))

    def test_a_subdirectory_is_left(self):
        uuid = agentfixtures.new_uuid()
        directory = self.make_instance_dir(uuid, ('disk',))
        os.mkdir(os.path.join(directory, 'console.log'))
        self.restart()
        self.assertTrue(os.path.isdir(os.path.join(directory,
                                                   'console.log')))

    def test_the_drivers_own_guest_without_a_record_goes(self):
        uuid = self.create()['uuid']
        self.store.delete(uuid)  # the record file alone went
        self.assertEqual({'orphan removed': 1}, dict(self.restart()))
        self.assertGone(uuid)

    def test_a_directory_whose_foreign_guest_exists_is_left_with_it(self):
        uuid = agentfixtures.new_uuid()
        self.make_instance_dir(uuid, ('disk', 'console.log'))
        self.driver.add_foreign_guest(uuid)
        self.assertEqual({'orphan left': 1}, dict(self.restart()))
        self.assertEqual('running', self.guest_state(uuid))
        self.assertEqual({'disk', 'console.log'},
                         set(os.listdir(self.instance_dir(uuid))))

    def test_an_unreadable_record_is_left(self):
        uuid = agentfixtures.new_uuid()
        directory = self.make_instance_dir(uuid, ('disk',))
        with open(os.path.join(directory, store_mod.RECORD_FILE), 'w') as f:
            f.write('{not json')
        self.assertEqual({'directory left': 1}, dict(self.restart()))
        self.assertEqual({'disk', store_mod.RECORD_FILE},
                         set(os.listdir(directory)))

    def test_names_that_are_not_uuids_are_not_instance_directories(self):
        uuid = agentfixtures.new_uuid()
        for name in ('_base', 'notes', uuid.upper(), uuid.replace('-', '')):
            self.make_instance_dir(name, ('disk',))
        self.assertEqual({}, dict(self.restart()))
        for name in ('_base', 'notes', uuid.upper(), uuid.replace('-', '')):
            self.assertEqual(['disk'], os.listdir(self.instance_dir(name)))

    def test_foreign_guests_are_left_alone(self):
        uuid = agentfixtures.new_uuid()
        self.driver.add_foreign_guest(uuid)
        self.assertEqual({'orphan left': 1}, dict(self.restart()))
        self.assertEqual('running', self.guest_state(uuid))
        self.assertEqual([], self.call('list_instances'))

    def test_a_missing_instances_path(self):
        self.flags(instances_path=os.path.join(self.tmp, 'nowhere'))
        self.assertEqual({}, dict(self.restart()))


class TestServiceStart(agentfixtures.ManagerTestCase):

    def test_recovery_runs_before_the_server_takes_requests(self):
        uuid = self.create()['uuid']
        self.store.update(uuid, state='building')
        orphan = agentfixtures.new_uuid()
        os.makedirs(self.instance_dir(orphan))
        service = self.useFixture(agentfixtures.AgentService(
            self.conf, driver=self.driver))
        self.assertIsNone(service.store.get(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.assertFalse(os.path.exists(self.instance_dir(orphan)))
        self.assertIsNone(self.driver.get_power_state(
            agentfixtures.instance_of(uuid)))


class TestPaths(agentfixtures.ManagerTestCase):

    def test_instance_files(self):
        for name in AGENT_FILES + ('disk.sdb', 'disk.hdd', 'serial3.sock',
                                   'console.3.log'):
            self.assertTrue(layout.is_instance_file(name), name)
        for name in ('instance.json', '.instance.x', 'disk.', 'disk.VDA',
                     'disk.vda.old', 'console.log.', 'console.x.log',
                     'serial.sock', 'disk.v', 'disk/vda', '..', ''):
            self.assertFalse(layout.is_instance_file(name), name)

    def test_unknown_files(self):
        directory = os.path.join(self.tmp, 'd')
        os.makedirs(os.path.join(directory, 'sub'))
        for name in ('disk', 'x', '.instance.1'):
            with open(os.path.join(directory, name), 'w'):
                pass
        self.assertEqual(['.instance.1', 'sub', 'x'],
                         layout.unknown_files(directory))
        self.assertEqual(['sub'], layout.unknown_files(
            directory, ignore=('x', '.instance.1')))


class TestSharedInstancesPath(RecoveryTestCase):
    """Another host's instances on an instances path shared with it."""

    def setUp(self):
        super().setUp()
        self.flags(instances_path_shared=True)
        self.rebuild_manager()

    def make_other_hosts_instance(self, host='other-host'):
        """An instance of ``host``'s, its record and files on the path."""
        uuid = agentfixtures.new_uuid()
        self.make_instance_dir(uuid, ('disk', 'console.log'))
        record = self.create()
        # This host's record, rewritten as the other host's, moved there.
        with open(os.path.join(self.instance_dir(record['uuid']),
                               store_mod.RECORD_FILE)) as f:
            stored = json.load(f)
        stored['record']['host'] = host
        stored['record']['uuid'] = stored['spec']['uuid'] = uuid
        with open(os.path.join(self.instance_dir(uuid),
                               store_mod.RECORD_FILE), 'w') as f:
            json.dump(stored, f)
        self.call('delete_instance', uuid=record['uuid'])
        return uuid

    def test_another_hosts_instances_are_not_loaded_nor_touched(self):
        uuid = self.make_other_hosts_instance()
        mine = self.create()['uuid']
        self.assertEqual({'adopted': 1}, dict(self.restart()))
        self.assertEqual([mine], [r['uuid'] for r in
                                  self.call('list_instances')])
        self.assertEqual({'disk', 'console.log', store_mod.RECORD_FILE},
                         set(os.listdir(self.instance_dir(uuid))))
        self.assertEqual('other-host', self.store.recorded_host(uuid))
        # Nor by the periodic passes.
        self.manager.reconciler.remove_orphans()
        self.assertTrue(os.path.isdir(self.instance_dir(uuid)))

    def test_a_directory_without_a_record_is_left(self):
        uuid = agentfixtures.new_uuid()
        self.make_instance_dir(uuid, AGENT_FILES)
        self.assertEqual({'orphan left': 1}, dict(self.restart()))
        self.assertEqual(set(AGENT_FILES),
                         set(os.listdir(self.instance_dir(uuid))))

    def test_its_own_guest_without_a_record_still_goes(self):
        uuid = self.create()['uuid']
        self.store.delete(uuid)  # the record file alone went
        self.assertEqual({'orphan removed': 1}, dict(self.restart()))
        self.assertGone(uuid)

    def test_every_hosts_records_say_what_the_cache_uses(self):
        other = self.make_other_hosts_instance()
        mine = self.create()['uuid']
        records = self.manager.cache_sweep._records()
        self.assertEqual({other, mine}, {r.uuid for r in records})

    def test_an_outbox_per_host(self):
        self.assertEqual(os.path.join(self.conf.instances_path,
                                      '.outbox.test-host'),
                         outbox.path_in(self.conf.instances_path,
                                        self.store.host))
