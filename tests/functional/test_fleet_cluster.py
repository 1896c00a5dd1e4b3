"""Quorum queues on a RabbitMQ cluster of three nodes.

A private cluster (tests/functional/private_cluster.py) is set up as an
operator would: ``computeagent-broker``, run against one member, adds a
controller and a host with its vhost (users, vhosts and permissions are
the cluster's). The host's agent (fake driver, ``[fleet]
vhost_per_host``, ``rabbit_quorum_queue``) and the test's controller
both have a transport URL naming the three nodes.

What is shown: the agent's request queue is a quorum queue with a member
on each node; with the node leading it crashed, or the node the agent
consumes from stopped, the agent answers the controller again within
seconds and runs a create cast sent meanwhile; a request cast while the
agent is down, its queue's leader then crashed, still runs when the
agent starts. The same with classic queues cannot be done: a classic
queue lives on one node, and while that node is down the queue is out of
reach from the others (RabbitMQ refuses to declare it elsewhere: 404),
so the agent cannot consume, requests routed to it are dropped and what
waited in it waits on the stopped node; the last test shows an agent
with classic queues answering no call while its queue's node is down.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import time
import uuid as uuid_mod

import fixtures
import oslo_messaging
from testtools import content

from tests.functional import base
from tests.functional import fixtures as ft_fixtures
from tests.functional import private_cluster

CONTROLLER = 'controller'
# Not /usr/sbin's wrapper, which runs it as the rabbitmq user with that
# user's Erlang cookie: the private nodes' cookie is in their HOME.
RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl'
TOPIC = 'computeagent'
QUORUM = {'rabbit_quorum_queue': True}
#: Seconds the agent and the controller may take to find each other
#: again through the nodes left, once a node is told to stop (answered
#: within 1 s here), and the contrast's calls go unanswered.
FAILOVER = 30
#: Seconds one call of the polling waits for its answer.
CALL_TIMEOUT = 5
#: Seconds a create may take, and an agent to start.
WAIT = 120
# An Erlang pid as rabbitmqctl's table prints it: <node.N.N.N>.
_PID = re.compile(r'^<(.+)\.\d+\.\d+\.\d+>$')


def pid_node(pid):
    """The node name of an Erlang pid printed by rabbitmqctl."""
    match = _PID.match(pid)
    if match is None:
        raise AssertionError('not an Erlang pid: %r' % pid)
    return match.group(1)


class ClusterBed(fixtures.Fixture):
    """A private cluster with a controller and a host, as deployed.

    ``agent``: the host's AgentFixture (quorum queues), whose ``call``
    goes through the controller's credentials; ``classic_host``: a
    second host, provisioned alike, for an agent with classic queues.
    """

    def _setUp(self):
        self.timings = {}
        started = time.monotonic()
        self.cluster = self.useFixture(private_cluster.PrivateCluster(3))
        self.timings['cluster'] = self.cluster.setup_seconds
        self.dir = self.useFixture(fixtures.TempDir()).path
        self._passwords = {}
        suffix = uuid_mod.uuid4().hex[:8]
        self.host = 'ft-q-%s' % suffix
        self.classic_host = 'ft-c-%s' % suffix
        mark = time.monotonic()
        # Any member will do: the last, not the one the others joined.
        self.broker_node = self.cluster.nodes[-1]
        self.broker_command('add-controller', CONTROLLER,
                            '--password-file', self._password_file(
                                CONTROLLER))
        # Each rabbitmqctl boots an Erlang VM: the hosts side by side.
        private_cluster.in_parallel([
            lambda h=host, p=self._password_file(host): self.broker_command(
                'add-host', h, '--controller', CONTROLLER,
                '--password-file', p)
            for host in (self.host, self.classic_host)])
        self.timings['provisioning'] = time.monotonic() - mark
        mark = time.monotonic()
        self.agent = self.useFixture(self.agent_fixture(self.host, QUORUM))
        self.timings['agent'] = time.monotonic() - mark
        self.timings['total'] = time.monotonic() - started

    def agent_fixture(self, host, rabbit_options):
        """An AgentFixture of the host in its vhost, reaching every node."""
        return ft_fixtures.AgentFixture(
            'fake', host=host, exchange='amq.topic',
            transport_url=self.url(host, self.vhost(host)),
            client_url=self.url(CONTROLLER, self.vhost(host)),
            rabbit_options=rabbit_options,
            options={'fleet': {'vhost_per_host': True},
                     'DEFAULT': {'report_interval': 0}})

    def _password_file(self, user):
        self._passwords[user] = secrets.token_hex(16)
        path = os.path.join(self.dir, user + '.password')
        with open(path, 'w') as f:
            f.write(self._passwords[user] + '\n')
        return path

    @staticmethod
    def vhost(host):
        return '%s-%s' % (TOPIC, host)

    def url(self, user, vhost):
        """The multi-host transport URL of ``user`` in ``vhost``."""
        return self.cluster.transport_url(user, self._passwords[user], vhost)

    def broker_command(self, *args):
        """Run computeagent-broker against one member of the cluster."""
        node = self.broker_node
        result = subprocess.run(
            [ft_fixtures.console_script('computeagent-broker'),
             '--node', node.node, '--rabbitmqctl', RABBITMQCTL] + list(args),
            env=node.env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise AssertionError('computeagent-broker %s failed (%d):\n%s%s'
                                 % (' '.join(args), result.returncode,
                                    result.stdout, result.stderr))
        return result

    def queues(self, host, *columns):
        """``{name: {column: value}}`` of the host's vhost's queues."""
        listing = self.cluster.ctl(
            'list_queues', '-p', self.vhost(host), 'name', *columns,
            '--formatter', 'json', '--silent')
        return {row['name']: row for row in json.loads(listing)}

    def pids(self, host, command, key):
        """``[(key, pid)]`` of list_queues or list_consumers in the vhost.

        Their table, not JSON, which prints pids without node names.
        """
        listing = self.cluster.ctl(
            command, '-p', self.vhost(host), key,
            'channel_pid' if command == 'list_consumers' else 'pid',
            '--silent')
        return [tuple(line.split('\t')) for line in listing.splitlines()]

    def consumer_nodes(self, host, queue):
        """The nodes whose connections consume ``queue`` of the host."""
        return {pid_node(pid) for name, pid in self.pids(
            host, 'list_consumers', 'queue_name') if name == queue}

    def queue_node(self, host, queue):
        """The node a classic queue of the host lives on."""
        return dict(self.pids(host, 'list_queues', 'name'))[queue]


class ClusterTestCase(base.FunctionalTestCase):
    """The tests of a class share one ClusterBed, set up once."""

    bed = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ft_fixtures.ensure_services()
        bed = ClusterBed()
        bed.setUp()  # cleans up after itself if it fails
        cls.bed = bed

    @classmethod
    def tearDownClass(cls):
        if cls.bed is not None:
            cls.bed.cleanUp()
            cls.bed = None
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.cluster = self.bed.cluster
        self.host = self.bed.host
        self.request_queue = '%s.%s' % (TOPIC, self.host)
        self.timings = dict(('setup %s' % k, round(v, 1))
                            for k, v in self.bed.timings.items())
        self.addDetail('timings', content.Content(
            content.UTF8_TEXT, lambda: [json.dumps(
                self.timings, sort_keys=True).encode()]))

    def spec(self):
        return {'uuid': self.new_uuid(),
                'disks': [{'source': {'image': 'a.img'}}]}

    def stop(self, node, sig):
        """Stop a member for this test; it starts again at the end.

        Returns when it was signalled (a clean stop closes the clients'
        connections first, then takes a second or so to end).
        """
        self.addCleanup(self.cluster.start_node, node)
        signalled = time.monotonic()
        self.cluster.stop_node(node, sig=sig)
        self.timings['node stop'] = round(time.monotonic() - signalled, 1)
        return signalled

    def leader(self, host, queue):
        """The node leading a quorum queue of the host, as its fixture."""
        return self.cluster.node(self.bed.queues(host, 'leader')[queue][
            'leader'])

    def wait_for_answer(self, agent, since, deadline):
        """Poll the agent until it answers; seconds since ``since``.

        A call unanswered within CALL_TIMEOUT is not retried by
        oslo.messaging: the next one is sent.
        """
        unanswered = 0
        while True:
            try:
                status = agent.call('get_host_status',
                                    rpc_timeout=CALL_TIMEOUT)
            except (oslo_messaging.MessagingTimeout,
                    oslo_messaging.MessageDeliveryFailure):
                unanswered += 1
                if time.monotonic() > deadline:
                    raise AssertionError(
                        'the agent did not answer within %d s after the '
                        'node was stopped (%d calls unanswered):\n%s'
                        % (deadline - since, unanswered, agent.log_tail()))
            else:
                self.assertEqual(self.host, status['host'])
                self.timings['unanswered calls'] = unanswered
                return time.monotonic() - since

    def wait_until_running(self, agent, uuid, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while not [r for r in agent.call('list_instances')
                   if r['uuid'] == uuid and r['state'] == 'running']:
            if time.monotonic() > deadline:
                raise AssertionError('instance %s was not created within '
                                     '%d s:\n%s' % (uuid, timeout,
                                                    agent.log_tail()))
            time.sleep(0.2)


class TestQuorumQueuesOnACluster(ClusterTestCase):

    def test_the_request_queue_has_a_member_on_every_node(self):
        queues = self.bed.queues(self.host, 'type', 'members', 'online',
                                 'leader')
        every_node = sorted(node.node for node in self.cluster.nodes)
        for name in (self.request_queue, TOPIC, 'notifications.info'):
            queue = queues[name]
            self.assertEqual('quorum', queue['type'], queue)
            self.assertEqual(every_node, sorted(queue['members']), queue)
            self.assertEqual(every_node, sorted(queue['online']), queue)
            self.assertIn(queue['leader'], every_node)

    def test_the_agent_goes_on_when_its_queues_leader_crashes(self):
        leader = self.leader(self.host, self.request_queue)
        consumers = self.bed.consumer_nodes(self.host, self.request_queue)
        self.timings['leader was the consumer node'] = (
            consumers == {leader.node})
        gone = self.stop(leader, signal.SIGKILL)
        self.assert_agent_goes_on(leader, gone)

    def test_the_agent_goes_on_when_the_node_it_consumes_from_stops(self):
        consumers = self.bed.consumer_nodes(self.host, self.request_queue)
        self.assertEqual(1, len(consumers), consumers)
        node = self.cluster.node(consumers.pop())
        self.timings['consumer node was the leader'] = (
            self.leader(self.host, self.request_queue) is node)
        gone = self.stop(node, signal.SIGTERM)
        self.assert_agent_goes_on(node, gone)
        # It consumes through another node now.
        consumers = self.bed.consumer_nodes(self.host, self.request_queue)
        self.assertEqual(1, len(consumers), consumers)
        self.assertNotIn(node.node, consumers)

    def assert_agent_goes_on(self, stopped, gone):
        """Calls are answered again, and a cast runs, without ``stopped``."""
        agent = self.bed.agent
        self.timings['failover'] = round(self.wait_for_answer(
            agent, gone, gone + FAILOVER), 1)
        spec = self.spec()
        mark = time.monotonic()
        agent.cast('create_instance', spec=spec)
        self.wait_until_running(agent, spec['uuid'])
        self.timings['cast to running'] = round(time.monotonic() - mark, 1)
        # All of it while the node was down.
        self.assertIsNone(stopped.pid)
        self.assertNotIn(stopped.node, self.cluster.running_nodes())
        # The queue has a leader among the nodes left.
        leader = self.leader(self.host, self.request_queue)
        self.assertIsNot(stopped, leader)
        agent.call('delete_instance', uuid=spec['uuid'])

    def test_a_request_cast_while_the_agent_is_down_outlives_its_leader(self):
        agent = self.bed.agent
        agent.stop()
        self.addCleanup(self.restart_agent, agent)
        waiting = self.messages()
        spec = self.spec()
        agent.cast('create_instance', spec=spec)
        # The cast is in the queue (a quorum queue counts a message once
        # a majority of its members has it).
        deadline = time.monotonic() + 30
        while self.messages() != waiting + 1:
            self.assertLess(time.monotonic(), deadline,
                            'the cast did not reach the request queue')
            time.sleep(0.2)
        leader = self.leader(self.host, self.request_queue)
        gone = self.stop(leader, signal.SIGKILL)
        # The members left elect a leader among them, which counts the
        # message: a replica had it.
        seen = []
        while seen[-1:] != [(True, waiting + 1)]:
            self.assertLess(time.monotonic(), gone + FAILOVER,
                            'no new leader counting the cast; (a new '
                            'leader, messages) seen: %s' % seen)
            time.sleep(0.5)
            queue = self.bed.queues(self.host, 'leader', 'messages')[
                self.request_queue]
            seen.append((queue['leader'] not in ('', leader.node),
                         queue['messages']))
        self.timings['new leader counting the cast'] = round(
            time.monotonic() - gone, 1)
        mark = time.monotonic()
        agent.start()
        self.wait_until_running(agent, spec['uuid'])
        self.timings['agent start to running'] = round(
            time.monotonic() - mark, 1)
        self.assertIsNone(leader.pid)
        agent.call('delete_instance', uuid=spec['uuid'])

    def messages(self):
        """How many messages the request queue holds."""
        return self.bed.queues(self.host, 'messages')[self.request_queue][
            'messages']

    @staticmethod
    def restart_agent(agent):
        """Leave the shared bed's agent running for the next test."""
        if agent.process is None or agent.process.poll() is not None:
            agent.start()

    def test_contrast_a_classic_queue_is_out_of_reach_with_its_node(self):
        # What makes the tests above able to fail: the same crash stops
        # an agent with classic queues, in the same cluster, as long as
        # its request queue's node is down. As long as those tests allow
        # for a failover, no call is answered.
        host = self.bed.classic_host
        agent = self.useFixture(self.bed.agent_fixture(host, None))
        queue = '%s.%s' % (TOPIC, host)
        self.assertEqual('classic',
                         self.bed.queues(host, 'type')[queue]['type'])
        node = self.cluster.node(pid_node(self.bed.queue_node(host, queue)))
        # Started again before the agent stops (cleanups run backwards).
        gone = self.stop(node, signal.SIGKILL)
        spec = self.spec()
        agent.cast('create_instance', spec=spec)
        unanswered = 0
        while time.monotonic() < gone + FAILOVER:
            try:
                agent.call('get_host_status', rpc_timeout=CALL_TIMEOUT)
            except oslo_messaging.MessagingTimeout:
                unanswered += 1
            else:
                self.fail('the agent with classic queues answered %.1f s '
                          "after its queue's node stopped"
                          % (time.monotonic() - gone))
        self.timings['unanswered calls'] = unanswered
        self.assertNotIn(spec['uuid'], agent.log_text())
