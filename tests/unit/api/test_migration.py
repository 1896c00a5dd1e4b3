"""Live migration between two agents in one process, over ``fake:``.

Agent A (the test's configuration) and agent B (a configuration of its
own, host ``host-b``) share one instances path, as hosts on shared
storage do, and one fake transport: A asks B over the peer topic as it
would over RabbitMQ. Their fake hypervisors move a guest between them
(the fake driver finds B's by host name within the process). A real
guest moving between two libvirtds is tests/functional's.
"""

import time

from oslo_config import cfg
from oslo_messaging import conffixture

from computeagent.api import rpcapi
from computeagent.compute import migration
from computeagent.compute import states
from computeagent import conf as agent_conf
from computeagent import exception
from computeagent import service as service_mod
from tests import base
from tests.unit import agentfixtures

HOST_B = 'host-b'


class MigrationTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        fake = self.useFixture(agentfixtures.FakeTransport(self.conf))
        self.notifications = fake.notifications
        self.useFixture(agentfixtures.WireFormat())
        self.flags(instances_path_shared=True)
        self.a = self.useFixture(agentfixtures.AgentService(self.conf))
        self.b = self.start_b()
        transport = rpcapi.get_transport(self.conf)
        self.addCleanup(transport.cleanup)
        self.api = rpcapi.ComputeAgentAPI(transport, self.conf.host,
                                          topic=self.conf.rpc_topic,
                                          timeout=30)
        self.api_b = rpcapi.ComputeAgentAPI(transport, HOST_B,
                                            topic=self.conf.rpc_topic,
                                            timeout=30)

    def start_b(self, **options):
        """Agent B: its own configuration, A's path and transport."""
        conf = cfg.ConfigOpts()
        agent_conf.register_opts(conf)
        self.useFixture(conffixture.ConfFixture(conf,
                                                transport_url='fake:/'))
        conf([])
        values = dict({'host': HOST_B, 'virt_driver': 'fake',
                       'instances_path': self.conf.instances_path,
                       'instances_path_shared': True,
                       'rpc_topic': self.conf.rpc_topic,
                       'report_interval': 0,
                       'sync_power_state_interval': 0}, **options)
        for name, value in values.items():
            conf.set_override(name, value)
        conf.set_override('directory', self.conf.image.directory,
                          group='image')
        conf.set_override('driver', ['test'],
                          group='oslo_messaging_notifications')
        service = service_mod.Service(
            conf, transport=self.a.service.transport)
        service.start()
        self.addCleanup(service.stop)
        return service

    def create(self):
        return self.api.create_instance(None, agentfixtures.make_spec())


class TestMigrate(MigrationTestCase):

    def test_the_guest_and_the_record_move(self):
        uuid = self.create()['uuid']
        moved = self.api.migrate_instance(None, uuid, HOST_B)
        self.assertEqual((HOST_B, 'running'), (moved['host'],
                                               moved['state']))
        # B owns it and its guest runs there; A forgot it.
        self.assertEqual(moved, self.api_b.get_instance(None, uuid))
        self.assertRaises(exception.InstanceNotFound,
                          self.api.get_instance, None, uuid)
        self.assertEqual([], self.api.list_instances(None))
        self.assertEqual('running', self.b.driver.list_power_states()[uuid])
        self.assertNotIn(uuid, self.a.driver.list_power_states())
        start, = self.notifications.payloads(
            'instance.live_migration.start')
        end, = self.notifications.payloads('instance.live_migration.end')
        self.assertEqual((uuid, HOST_B), (start['uuid'], start['dest_host']))
        self.assertEqual(dict(moved, source_host=self.conf.host), end)
        # And B may do everything with it, up to deleting it.
        self.api_b.stop_instance(None, uuid)
        self.api_b.delete_instance(None, uuid)
        self.assertEqual([], self.api_b.list_instances(None))

    def test_and_back(self):
        uuid = self.create()['uuid']
        self.api.migrate_instance(None, uuid, HOST_B)
        back = self.api_b.migrate_instance(None, uuid, self.conf.host)
        self.assertEqual(self.conf.host, back['host'])
        self.assertEqual(back, self.api.get_instance(None, uuid))
        self.assertEqual([], self.api_b.list_instances(None))

    def test_a_paused_guest_moves_paused(self):
        uuid = self.create()['uuid']
        self.api.pause_instance(None, uuid)
        moved = self.api.migrate_instance(None, uuid, HOST_B)
        self.assertEqual('paused', moved['state'])
        self.assertEqual('paused', self.b.driver.list_power_states()[uuid])

    def test_a_stopped_instance_is_refused(self):
        uuid = self.create()['uuid']
        self.api.stop_instance(None, uuid)
        error = self.assertRaises(exception.InvalidState,
                                  self.api.migrate_instance, None, uuid,
                                  HOST_B)
        self.assertIn('live migrate', str(error))
        self.assertEqual(self.conf.host,
                         self.api.get_instance(None, uuid)['host'])

    def test_bad_arguments(self):
        uuid = self.create()['uuid']
        for dest, live in ((self.conf.host, True), ('', True),
                           ('bad host', True), (HOST_B, False)):
            self.assertRaises(exception.InvalidSpec,
                              self.api.migrate_instance, None, uuid, dest,
                              live=live)
        self.assertEqual([], self.notifications.payloads(
            'instance.live_migration.start'))


class TestStates(MigrationTestCase):

    def into(self, state):
        uuid = self.create()['uuid']
        if state == 'paused':
            self.api.pause_instance(None, uuid)
        elif state == 'suspended':
            self.api.suspend_instance(None, uuid)
        elif state == 'shutoff':
            self.api.stop_instance(None, uuid)
        elif state == 'crashed':
            agentfixtures.set_guest_state(self.a.driver, uuid, 'crashed')
            self.a.manager.power_sync.sync_power_states()
        elif state in ('error', 'building'):
            self.a.store.update(uuid, state=state)
        self.assertEqual(state, self.a.store.get(uuid).state)
        return uuid

    def test_only_a_running_or_paused_guest_moves(self):
        for state in states.ALL:
            uuid = self.into(state)
            if state in states.ALLOWED['live_migrate']:
                self.assertEqual(
                    HOST_B,
                    self.api.migrate_instance(None, uuid, HOST_B)['host'])
                continue
            error = self.assertRaises(exception.InvalidState,
                                      self.api.migrate_instance, None, uuid,
                                      HOST_B)
            self.assertEqual('Cannot live migrate instance %s while it is '
                             '%s.' % (uuid, state), error.message)
            self.assertEqual(state, self.a.store.get(uuid).state)
        self.assertEqual(set(states.ALLOWED['live_migrate']),
                         {r['state'] for r in
                          self.api_b.list_instances(None)})


class TestFailures(MigrationTestCase):

    def assert_stayed(self, uuid, error):
        record = self.api.get_instance(None, uuid)
        self.assertEqual((self.conf.host, 'running'),
                         (record['host'], record['state']))
        self.assertEqual('running', self.a.driver.list_power_states()[uuid])
        self.assertNotIn(uuid, self.b.driver.list_power_states())
        self.assertIsNone(self.a.store.get_stored(uuid).migrating_to)
        self.assertRaises(exception.InstanceNotFound,
                          self.api_b.get_instance, None, uuid)
        failed, = self.notifications.payloads(
            'instance.live_migration.error')
        self.assertEqual(('MigrationFailed', error.message),
                         (failed['error_type'], failed['error']))

    def test_a_destination_without_the_shared_path_refuses(self):
        self.b.stop()
        self.b = self.start_b(instances_path_shared=False)
        uuid = self.create()['uuid']
        error = self.assertRaises(exception.MigrationFailed,
                                  self.api.migrate_instance, None, uuid,
                                  HOST_B)
        self.assertIn('does not share its instances path', str(error))
        self.assert_stayed(uuid, error)

    def test_a_failed_move_leaves_the_guest_and_its_record(self):
        uuid = self.create()['uuid']

        def refuse(instance, target):
            raise exception.DriverError(reason='the network broke')
        self.a.driver.live_migrate = refuse
        error = self.assertRaises(exception.MigrationFailed,
                                  self.api.migrate_instance, None, uuid,
                                  HOST_B)
        self.assertIn('the network broke', str(error))
        self.assert_stayed(uuid, error)
        # Told (a cast: the source does not wait) to expect it no more.
        deadline = time.monotonic() + agentfixtures.WAIT
        while self.b.manager.migration.incoming():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)

    def test_an_unshared_source_refuses_before_asking(self):
        self.flags(instances_path_shared=False)
        uuid = self.create()['uuid']
        error = self.assertRaises(exception.MigrationFailed,
                                  self.api.migrate_instance, None, uuid,
                                  HOST_B)
        self.assertIn('instances_path_shared', str(error))
        self.assertEqual(set(), self.b.manager.migration.incoming())


class TestInterrupted(MigrationTestCase):
    """What a crash of either agent mid-migration leaves is settled."""

    def test_the_source_finishes_a_move_that_happened(self):
        uuid = self.create()['uuid']
        stored = self.a.store.get_stored(uuid)
        self.a.store.set_migrating(uuid, HOST_B)
        # The hypervisors moved the guest; the agent stopped before the
        # hand-over.
        self.a.driver.live_migrate(stored, {'host': HOST_B})
        outcome = migration.settle_after_restart(
            self.a.store, self.a.driver, self.a.store.get_stored(uuid),
            self.a.service.notifier, agentfixtures.context())
        self.assertEqual('migrated', outcome)
        self.assertIsNone(self.a.store.get(uuid))
        # B finds the record naming it at its next pass.
        self.assertEqual([uuid],
                         self.b.manager.reconciler.adopt_handed_over())
        self.assertEqual(HOST_B, self.api_b.get_instance(None, uuid)['host'])

    def test_a_failed_hand_over_is_finished_by_the_next_pass(self):
        uuid = self.create()['uuid']
        real = self.a.store.hand_over

        def full_disk(uuid, host):
            raise exception.InsufficientResources(reason='disk full')
        self.a.store.hand_over = full_disk
        self.assertRaises(exception.InsufficientResources,
                          self.api.migrate_instance, None, uuid, HOST_B)
        # The guest is at B; the record still A's, marked.
        self.assertEqual(HOST_B, self.a.store.get_stored(uuid).migrating_to)
        self.assertIn(uuid, self.b.driver.list_power_states())
        self.a.store.hand_over = real
        self.a.manager.reconciler.reconcile()
        self.assertIsNone(self.a.store.get(uuid))
        self.b.manager.reconciler.reconcile()
        self.assertEqual(HOST_B, self.api_b.get_instance(None, uuid)['host'])

    def test_the_source_keeps_a_guest_that_did_not_move(self):
        uuid = self.create()['uuid']
        self.a.store.set_migrating(uuid, HOST_B)
        outcome = migration.settle_after_restart(
            self.a.store, self.a.driver, self.a.store.get_stored(uuid),
            self.a.service.notifier, agentfixtures.context())
        self.assertEqual('stayed', outcome)
        self.assertIsNone(self.a.store.get_stored(uuid).migrating_to)

    def test_the_destination_leaves_an_arriving_guest_alone(self):
        uuid = self.create()['uuid']
        stored = self.a.store.get_stored(uuid)
        self.a.store.set_migrating(uuid, HOST_B)
        self.a.driver.live_migrate(stored, {'host': HOST_B})
        # B sees a guest whose record is A's: not an orphan of B's.
        self.b.manager.reconciler.remove_orphans()
        self.assertEqual('running', self.b.driver.list_power_states()[uuid])
        self.assertEqual(self.conf.host,
                         self.b.store.recorded_host(uuid))
