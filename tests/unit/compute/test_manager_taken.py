"""Creates refused where a rollback would destroy what is not the agent's."""

import os

import fixtures

from computeagent.compute import store as store_mod
from computeagent import exception
from tests.unit import agentfixtures

# What a file the agent did not make holds; it must survive untouched.
FOREIGN = "not the agent's"


class TestCreateInATakenPlace(agentfixtures.ManagerTestCase):
    """A create never builds in, nor rolls back, what it did not make."""

    def make_dir(self, uuid, *names):
        return self.make_instance_dir(uuid, names, content=FOREIGN)

    def assertRefused(self, uuid, *words):
        error = self.assertRaises(exception.InstanceExists, self.create,
                                  uuid)
        for word in (uuid, self.instance_dir(uuid)) + words:
            self.assertIn(word, str(error))
        self.assertIsNone(self.store.get_stored(uuid))
        self.assertEqual({}, self.driver.list_power_states())
        refused = self.notifications.payloads('instance.create.error')[-1]
        self.assertEqual(('InstanceExists', None),
                         (refused['error_type'], refused['state']))
        return error

    def test_foreign_files_are_refused_and_kept(self):
        uuid = agentfixtures.new_uuid()
        self.make_dir(uuid, 'precious.img', 'disk')
        # Were it built, the failed spawn's rollback would remove them.
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'spawn',
            side_effect=exception.DriverError(reason='no bridge')))
        self.assertRefused(uuid, 'already holds files the agent did not '
                                 'make: precious.img')
        self.assertEqual(['disk', 'precious.img'],
                         sorted(os.listdir(self.instance_dir(uuid))))

    def test_a_subdirectory_is_refused(self):
        uuid = agentfixtures.new_uuid()
        os.makedirs(os.path.join(self.make_dir(uuid), 'keep'))
        self.assertRefused(uuid, 'keep')
        self.assertEqual(['keep'], os.listdir(self.instance_dir(uuid)))

    def test_a_record_not_loaded_is_refused(self):
        uuid = agentfixtures.new_uuid()
        self.make_dir(uuid, store_mod.RECORD_FILE)
        self.assertRefused(uuid, 'a record this agent has not loaded')
        with open(os.path.join(self.instance_dir(uuid),
                               store_mod.RECORD_FILE)) as f:
            self.assertEqual(FOREIGN, f.read())

    def test_anything_but_a_directory_is_refused(self):
        elsewhere = os.path.join(self.tmp, 'elsewhere')
        os.makedirs(elsewhere)
        linked, placed = (agentfixtures.new_uuid() for _ in range(2))
        os.symlink(elsewhere, self.instance_dir(linked))
        with open(self.instance_dir(placed), 'w'):
            pass
        for uuid in (linked, placed):
            self.assertRefused(uuid, 'is not a directory')
        self.assertEqual([], os.listdir(elsewhere))
        self.assertTrue(os.path.isfile(self.instance_dir(placed)))

    def test_the_agents_own_leftovers_do_not_block(self):
        empty, leftovers = (agentfixtures.new_uuid() for _ in range(2))
        self.make_dir(empty)
        self.make_dir(leftovers, 'disk', 'console.log.0', 'serial0.sock',
                      store_mod.TEMP_PREFIX + 'x1y2')
        for uuid in (empty, leftovers):
            self.assertEqual('running', self.create(uuid)['state'])
            self.call('delete_instance', uuid=uuid)
            self.assertFalse(os.path.exists(self.instance_dir(uuid)))

    def test_retries_and_dry_runs_are_not_refused(self):
        spec = agentfixtures.make_spec()
        first = self.call('create_instance', spec=spec)
        # Its directory holds its record: a retry still gets it back.
        self.assertEqual(first, self.call('create_instance', spec=spec))
        uuid = agentfixtures.new_uuid()
        self.make_dir(uuid, 'precious.img')
        plan = self.call('render_instance',
                         spec=agentfixtures.make_spec(uuid))
        self.assertIn(uuid, plan['domain_xml'])
        self.assertEqual(['precious.img'],
                         os.listdir(self.instance_dir(uuid)))

    def test_a_guest_without_a_record_is_left_alone(self):
        # The hypervisor has a guest of the uuid the agent has no record
        # of: building would fail, and its rollback destroy the guest.
        uuid = self.create()['uuid']
        self.store.delete(uuid)
        self.store.remove_instance_dir(uuid)
        error = self.assertRaises(exception.DriverError, self.create, uuid)
        self.assertIn('already has a domain with uuid %s' % uuid,
                      str(error))
        self.assertEqual({uuid: 'running'}, self.driver.list_power_states())
        self.assertIsNone(self.store.get_stored(uuid))
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
