"""A compute node's credentials reach nothing of another node.

A RabbitMQ node of the tests' own (tests/functional/private_rabbitmq.py)
is set up as an operator would: ``computeagent-broker`` adds a
controller and two hosts, A and B, each with its vhost; the agents of A
and B (fake driver) serve their own vhosts, with ``[fleet]
vhost_per_host``. Then A's credentials try every way to B that the
broker offers (PLATFORM.md, "A fleet on one machine", lists them), with
plain AMQP as a compromised node would, and through oslo.messaging as a
misconfigured one would; each attempt must be refused, and B's agent
must never run what A sent. The controller's own rights are tried too:
it may command and hear both hosts, never take their requests.
"""

import atexit
import json
import os
import secrets
import subprocess
import time
import uuid as uuid_mod

import amqp
import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture

from computeagent.api import fleet as fleet_mod
from tests.functional import base
from tests.functional import fixtures as ft_fixtures
from tests.functional import private_rabbitmq

CONTROLLER = 'controller'
# Not /usr/sbin's wrapper, which runs it as the rabbitmq user with that
# user's Erlang cookie: the private node's cookie is in its own HOME.
RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl'
TOPIC = 'computeagent'
# AMQP reply codes: a refused resource, a vhost the user may not open.
ACCESS_REFUSED = 403
NOT_ALLOWED = 530


class FleetBed(fixtures.Fixture):
    """A private broker with a controller and hosts A and B, as deployed.

    ``hosts``: the two host names; ``agents``: their AgentFixtures,
    whose ``call`` goes through the controller's credentials;
    ``password(user)``; ``url(user, vhost)``; ``broker_command(...)``
    runs computeagent-broker on the node.

    :param rabbit_options: ``[oslo_messaging_rabbit]`` options of the
        agents and the tests' clients
    :param peers: A and B are made migration peers (``add-peers``) and
        share an instances path, as hosts that live-migrate do
    """

    def __init__(self, rabbit_options=None, peers=False):
        super().__init__()
        self.rabbit_options = rabbit_options
        self.peers = peers

    def _setUp(self):
        self.broker = self.useFixture(private_rabbitmq.PrivateRabbitMQ())
        self.dir = self.useFixture(fixtures.TempDir()).path
        self._passwords = {}
        suffix = uuid_mod.uuid4().hex[:8]
        self.hosts = ['ft-a-%s' % suffix, 'ft-b-%s' % suffix]
        self.broker_command('add-controller', CONTROLLER,
                            '--password-file', self._password_file(
                                CONTROLLER))
        for host in self.hosts:
            self.broker_command('add-host', host, '--controller', CONTROLLER,
                                '--password-file', self._password_file(host))
        self.controller_template = self.url(CONTROLLER,
                                            '%s-{host}' % TOPIC)
        defaults = {'report_interval': 0}
        if self.peers:
            self.broker_command('add-peers', *self.hosts)
            defaults.update(instances_path=os.path.join(self.dir,
                                                        'instances'),
                            instances_path_shared=True)
        self.agents = {}
        for host in self.hosts:
            self.agents[host] = self.useFixture(ft_fixtures.AgentFixture(
                'fake', host=host, exchange='amq.topic',
                transport_url=self.url(host, self.vhost(host)),
                client_url=self.url(CONTROLLER, self.vhost(host)),
                rabbit_options=self.rabbit_options,
                options={'fleet': {'vhost_per_host': True},
                         'DEFAULT': defaults}))

    def _password_file(self, user):
        self._passwords[user] = secrets.token_hex(16)
        path = os.path.join(self.dir, user + '.password')
        with open(path, 'w') as f:
            f.write(self._passwords[user] + '\n')
        return path

    def password(self, user):
        return self._passwords[user]

    @staticmethod
    def vhost(host):
        return '%s-%s' % (TOPIC, host)

    def url(self, user, vhost):
        return 'rabbit://%s:%s@127.0.0.1:%d/%s' % (
            user, self.password(user), self.broker.port, vhost)

    def broker_command(self, *args, check=True):
        """Run computeagent-broker against the private node."""
        result = subprocess.run(
            [ft_fixtures.console_script('computeagent-broker'),
             '--node', self.broker.node, '--rabbitmqctl', RABBITMQCTL] +
            list(args),
            env=self.broker.env, capture_output=True, text=True,
            timeout=300)
        if check and result.returncode != 0:
            raise AssertionError('computeagent-broker %s failed (%d):\n%s%s'
                                 % (' '.join(args), result.returncode,
                                    result.stdout, result.stderr))
        return result

    def connect(self, user, vhost):
        """A plain AMQP connection as ``user`` to ``vhost``, open."""
        conn = amqp.Connection(host='127.0.0.1:%d' % self.broker.port,
                               userid=user, password=self.password(user),
                               virtual_host=vhost, connect_timeout=10)
        self.addCleanup(conn.collect)
        conn.connect()
        return conn


_beds = {}


def fleet_bed(**options):
    """This test process's FleetBed of ``options``, set up once."""
    key = json.dumps(options, sort_keys=True)
    if key not in _beds:
        bed = FleetBed(**options)
        bed.setUp()
        atexit.register(bed.cleanUp)
        _beds[key] = bed
    return _beds[key]


class FleetTestCase(base.FunctionalTestCase):

    #: FleetBed's options
    bed_options = {}

    def setUp(self):
        super().setUp()
        self.bed = fleet_bed(**self.bed_options)
        self.a, self.b = self.bed.hosts
        self.agent_a = self.bed.agents[self.a]
        self.agent_b = self.bed.agents[self.b]

    def spec(self):
        return {'uuid': self.new_uuid(),
                'disks': [{'source': {'image': 'a.img'}}]}

    def controller_fleet(self, template=None):
        """A controller's Fleet of the bed's hosts (or of ``template``)."""
        conf = cfg.ConfigOpts()
        self.useFixture(conffixture.ConfFixture(conf))
        conf.set_override('amqp_durable_queues', True,
                          group='oslo_messaging_rabbit')
        fleet = fleet_mod.Fleet(conf, template or
                                self.bed.controller_template)
        self.addCleanup(fleet.cleanup)
        return fleet

    def assert_refused(self, codes, func, *args, **kwargs):
        """``func`` fails with an AMQP error of one of ``codes``."""
        error = self.assertRaises(amqp.exceptions.AMQPError, func, *args,
                                  **kwargs)
        self.assertIn(error.reply_code, codes, error)
        return error

    def assert_b_ran_nothing(self, uuid):
        """B's agent has no record of ``uuid`` and never received it."""
        self.assertEqual([], [r for r in self.agent_b.call('list_instances')
                              if r['uuid'] == uuid])
        self.assertNotIn(uuid, self.agent_b.log_text())


class TestController(FleetTestCase):
    """The controller commands and hears each host in its vhost."""

    def test_commands_each_host_in_its_vhost(self):
        fleet = self.controller_fleet()
        for host in (self.a, self.b):
            status = fleet.api(host, timeout=60).get_host_status(None)
            self.assertEqual(host, status['host'])

    def test_hears_each_hosts_notifications(self):
        fleet = self.controller_fleet()
        heard = ft_fixtures.NotificationCollector()
        # A pool of its own (the fixtures' listeners read the hosts'
        # queues too), named as a controller's queue may be.
        listener = fleet.notification_listener(
            [self.a, self.b], [heard],
            pool='notifications.%s' % self.new_uuid())
        listener.start()
        self.addCleanup(listener.stop)
        specs = {host: self.spec() for host in (self.a, self.b)}
        for host, spec in specs.items():
            self.bed.agents[host].call('create_instance', spec=spec)
            self.bed.agents[host].call('delete_instance', uuid=spec['uuid'])
        for host, spec in specs.items():
            end = heard.wait_for(
                'instance.create.end',
                predicate=lambda n, u=spec['uuid']: n['payload']['uuid'] == u)
            self.assertEqual('computeagent.%s' % host, end['publisher_id'])

    def test_ctl_reaches_each_host_by_the_template(self):
        for host in (self.a, self.b):
            result = subprocess.run(
                [ft_fixtures.console_script('computeagent-ctl'),
                 '--config-file', '/dev/null', '--transport-url',
                 self.bed.controller_template, '--host', host,
                 '--format', 'json', 'host-status'],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(0, result.returncode, result.stderr)
            self.assertEqual(host, json.loads(result.stdout)['host'])

    def test_never_takes_a_hosts_requests(self):
        for host in (self.a, self.b):
            channel = self.bed.connect(CONTROLLER,
                                       self.bed.vhost(host)).channel()
            self.assert_refused(
                (ACCESS_REFUSED,), channel.basic_consume,
                '%s.%s' % (TOPIC, host), callback=lambda m: None)

    def test_cannot_publish_notifications_as_a_host(self):
        channel = self.bed.connect(CONTROLLER,
                                   self.bed.vhost(self.a)).channel()
        channel.confirm_select()
        self.assert_refused(
            (ACCESS_REFUSED,), channel.basic_publish_confirm,
            amqp.Message('{}'), exchange='amq.topic',
            routing_key='notifications.info')


class TestHostCannotReachAnother(FleetTestCase):
    """Host A's credentials against host B."""

    def test_cannot_open_bs_vhost(self):
        self.assert_refused((ACCESS_REFUSED, NOT_ALLOWED), self.bed.connect,
                            self.a, self.bed.vhost(self.b))

    def test_cannot_call_or_cast_b_through_oslo_messaging(self):
        # A's password, B's vhost: a node configured to reach another.
        fleet = self.controller_fleet('rabbit://%s:%s@127.0.0.1:%d/%s' % (
            self.a, self.bed.password(self.a), self.bed.broker.port,
            self.bed.vhost(self.b)))
        api = fleet.api(self.b, timeout=10)
        spec = self.spec()
        refused = (amqp.exceptions.AMQPError,
                   oslo_messaging.MessagingException)
        for cast in (False, True):
            error = self.assertRaises(refused, api.create_instance, None,
                                      spec, cast=cast)
            self.assertIn('access', str(error).lower())
        self.assert_b_ran_nothing(spec['uuid'])

    def test_cannot_send_requests_in_its_own_vhost(self):
        # Not even to itself: the exchange takes only its notifications.
        channel = self.bed.connect(self.a, self.bed.vhost(self.a)).channel()
        channel.confirm_select()
        for key in ('%s.%s' % (TOPIC, self.b), '%s.%s' % (TOPIC, self.a),
                    TOPIC):
            self.assert_refused(
                (ACCESS_REFUSED,), channel.basic_publish_confirm,
                amqp.Message('{}'), exchange='amq.topic', routing_key=key)
            channel = self.bed.connect(self.a,
                                       self.bed.vhost(self.a)).channel()
            channel.confirm_select()

    def test_default_exchange_reaches_no_queue_of_b(self):
        # A may publish to the default exchange (it answers calls so),
        # by queue name: B's queue is not in A's vhost, and A may not
        # make one of that name there.
        spec = self.spec()
        channel = self.bed.connect(self.a, self.bed.vhost(self.a)).channel()
        channel.confirm_select()
        returned = []
        channel.events['basic_return'].add(
            lambda *args: returned.append(args))
        message = amqp.Message(
            '{"oslo.version": "2.0", "oslo.message": "{}"}')
        channel.basic_publish_confirm(
            message, exchange='', routing_key='%s.%s' % (TOPIC, self.b),
            mandatory=True)
        self.assertEqual(1, len(returned), 'the message found a queue')
        self.assert_refused(
            (ACCESS_REFUSED,), channel.queue_declare,
            '%s.%s' % (TOPIC, self.b), durable=True, auto_delete=False)
        self.assert_b_ran_nothing(spec['uuid'])

    def test_cannot_consume_or_bind_bs_queue(self):
        for attempt in (
                lambda ch: ch.basic_consume('%s.%s' % (TOPIC, self.b),
                                            callback=lambda m: None),
                lambda ch: ch.queue_bind('%s.%s' % (TOPIC, self.b),
                                         'amq.topic',
                                         '%s.%s' % (TOPIC, self.b)),
                lambda ch: ch.queue_bind('%s.%s' % (TOPIC, self.a),
                                         'amq.topic',
                                         '%s.%s' % (TOPIC, self.b))):
            channel = self.bed.connect(self.a,
                                       self.bed.vhost(self.a)).channel()
            self.assert_refused((ACCESS_REFUSED,), attempt, channel)

    def test_cannot_delete_or_redeclare_the_control_exchange(self):
        for attempt in (
                lambda ch: ch.exchange_delete('amq.topic'),
                lambda ch: ch.exchange_declare('amq.topic', 'fanout',
                                               durable=True,
                                               auto_delete=False)):
            channel = self.bed.connect(self.a,
                                       self.bed.vhost(self.a)).channel()
            # 403 for amq.*, or 406 for a declaration unlike the
            # exchange: either way it stays as it is.
            self.assert_refused((ACCESS_REFUSED, 406), attempt, channel)
        # B still answers through it.
        self.assertEqual(self.b,
                         self.agent_b.call('get_host_status')['host'])

    def test_b_unaffected_by_everything_a_tried(self):
        spec = self.spec()
        started = time.monotonic()
        self.agent_b.call('create_instance', spec=spec)
        self.assertEqual('running',
                         self.agent_b.call('get_instance',
                                           uuid=spec['uuid'])['state'])
        self.agent_b.call('delete_instance', uuid=spec['uuid'])
        self.assertLess(time.monotonic() - started, 120)


class TestBrokerCommand(FleetTestCase):
    """computeagent-broker is idempotent and says what it changed."""

    def test_adding_a_host_again_changes_nothing_of_its_rights(self):
        result = self.bed.broker_command(
            'add-host', self.a, '--controller', CONTROLLER)
        self.assertNotIn('added', result.stdout)
        self.assertIn('vhost_per_host = true', result.stdout)
        # A's password was kept: its agent still serves.
        self.assertEqual(self.a,
                         self.agent_a.call('get_host_status')['host'])

    def test_remove_host_twice(self):
        host = 'ft-gone-%s' % uuid_mod.uuid4().hex[:8]
        self.bed.broker_command('add-host', host, '--controller', CONTROLLER)
        first = self.bed.broker_command('remove-host', host)
        self.assertIn('vhost %s-%s deleted' % (TOPIC, host), first.stdout)
        self.assertIn('user %s deleted' % host, first.stdout)
        second = self.bed.broker_command('remove-host', host)
        self.assertEqual('nothing to change\n', second.stdout)

    def test_a_missing_controller_is_refused_before_any_change(self):
        host = 'ft-none-%s' % uuid_mod.uuid4().hex[:8]
        result = self.bed.broker_command('add-host', host, '--controller',
                                         'nobody', check=False)
        self.assertEqual(2, result.returncode, result.stderr)
        self.assertIn('no controller user nobody', result.stderr)
        listing = subprocess.run(
            [RABBITMQCTL, '-n', self.bed.broker.node, 'list_vhosts',
             '--silent'], env=self.bed.broker.env, capture_output=True,
            text=True, timeout=120, check=True).stdout
        self.assertNotIn(host, listing)


class TestPeers(FleetTestCase):
    """Migration peers: A may ask B's agent on B's peer topic, only."""

    bed_options = {'peers': True}

    def test_the_source_asks_the_destination_in_its_vhost(self):
        spec = self.spec()
        self.agent_a.call('create_instance', spec=spec)
        self.addCleanup(self.agent_a.call, 'delete_instance',
                        uuid=spec['uuid'])
        error = self.assertRaises(oslo_messaging.RemoteError,
                                  self.agent_a.call, 'migrate_instance',
                                  uuid=spec['uuid'], dest_host=self.b)
        # B prepared (through its vhost, with A's peer rights); then the
        # fake hypervisors, in two processes, could not move the guest.
        self.assertEqual('MigrationFailed', error.exc_type)
        self.assertIn('no fake hypervisor of host %s' % self.b, error.value)
        self.assertIn('Ready to receive instance %s' % spec['uuid'],
                      self.agent_b.log_text())
        self.assertEqual(self.a, self.agent_a.call(
            'get_instance', uuid=spec['uuid'])['host'])

    def test_a_peer_asks_on_the_peer_topic_only(self):
        vhost_b = self.bed.vhost(self.b)
        channel = self.bed.connect(self.a, vhost_b).channel()
        channel.confirm_select()
        channel.basic_publish_confirm(
            amqp.Message('{}'), exchange='amq.topic',
            routing_key='%s-peer.%s' % (TOPIC, self.b))
        for exchange, key in (('amq.topic', '%s.%s' % (TOPIC, self.b)),
                              ('amq.topic', TOPIC),
                              ('amq.topic', 'notifications.info'),
                              ('', '%s.%s' % (TOPIC, self.b))):
            channel = self.bed.connect(self.a, vhost_b).channel()
            channel.confirm_select()
            self.assert_refused(
                (ACCESS_REFUSED,), channel.basic_publish_confirm,
                amqp.Message('{}'), exchange=exchange, routing_key=key)
        for queue in ('%s.%s' % (TOPIC, self.b),
                      '%s-peer.%s' % (TOPIC, self.b), 'notifications.info'):
            channel = self.bed.connect(self.a, vhost_b).channel()
            self.assert_refused((ACCESS_REFUSED,), channel.basic_consume,
                                queue, callback=lambda m: None)
            channel = self.bed.connect(self.a, vhost_b).channel()
            self.assert_refused((ACCESS_REFUSED,), channel.queue_declare,
                                queue, durable=True, auto_delete=False)
