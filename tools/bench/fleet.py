"""Scenario: a fleet of N agents on one broker, against N bare servers.

The issue's "A fleet of compute nodes": N agents (fake driver), each with
its own host name and vhost (``[fleet] vhost_per_host``), on one broker,
called through the controller's own client; the floor is N bare
oslo.messaging servers (:mod:`tools.bench.bare_server`), each in a vhost
of the same kind (a host of its own, provisioned alike, its server
connecting with that host's credentials) and serving the agent's very
target: topic ``computeagent``, server the host, exchange ``amq.topic``.
Agents and floor servers run side by side; the load goes to one side at
a time.

The broker is a RabbitMQ node of the scenario's own
(:class:`tests.functional.private_rabbitmq.PrivateRabbitMQ`), so that the
shared broker, which the other scenarios and every test use, is never
given the fleet's users, vhosts and permissions. They are made by
:mod:`computeagent.fleet.provision`'s own functions, imported in one
command (:mod:`tools.bench.fleetbroker`) and checked against
:mod:`computeagent.fleet.vhosts` once made.

The load: :data:`LOAD_PROCESSES` processes of :data:`LOAD_THREADS`
threads each (:mod:`tools.bench.fleet_load`): that many calls in
flight at every N and on both sides, each thread calling one host after
another. A window of a few seconds gives one sample of each figure:
calls per second (``get_host_status``), their median and 99th percentile
latency, creates per second (a ``create_instance`` and its
``delete_instance``, both calls; the floor answers the same two calls
with the same spec trivially, without validation, records or
notifications), and the CPU each part of the machine used per call: the
N servers of the side, the broker, the load. Agent and floor windows
alternate, in pairs. The agents' notifications are read as a
controller's would be (the fixtures' listeners, in the bench's
process). After each level the resident memory of every agent and floor
server is noted.
"""

import json
import secrets
import subprocess
import sys
import time

import fixtures

from computeagent.fleet import provision
from computeagent.fleet import vhosts
from tests.functional import fixtures as ft_fixtures
from tests.functional import private_rabbitmq
from tools.bench import bare
from tools.bench import fleetbroker
from tools.bench import guests
from tools.bench import procstat
from tools.bench import stats

TOPIC = 'computeagent'
CONTROLLER = 'bench-controller'
#: Processes of the load generator, and threads (calls in flight) in each.
#: The same at every N: only the number of hosts changes. Measured here,
#: 2 calls in flight already kept the two CPUs busy (as many calls/s as
#: 32 in flight, whose p99 was only the longer queue: 0.3 s instead of
#: 0.03); 8 keep them busy while calls wait on the broker and on the
#: agents' durable writes.
LOAD_PROCESSES = 2
LOAD_THREADS = 4
#: ``[oslo_messaging_rabbit] heartbeat_rate`` of the agents and floor
#: servers: oslo.messaging's default, as deployed. The tests' own (the
#: fixtures', 150) wakes every consumer and heartbeat 5 times a second,
#: which at 32 hosts would be a cost of the bench, not of the fleet.
HEARTBEAT_RATE = 3
#: Seconds between sending a window's orders and its start, so that every
#: load process begins at once.
LEAD_S = 0.3
#: The window's ops (fleet_load.OPS) and the names of their figures.
OPS = (('status', 'call'), ('create', 'create'))
#: What each figure is: its title and unit.
FIGURES = {
    'per_s': ('%ss per second', '/s'),
    'p50_s': ('median %s latency', 's'),
    'p99_s': ('99th percentile %s latency', 's'),
    'server_cpu_s': ('CPU of the N servers per %s', 's'),
    'broker_cpu_s': ('CPU of the broker per %s', 's'),
    'load_cpu_s': ('CPU of the load per %s', 's'),
}


def host_names(side, count):
    """The first ``count`` host names of ``side`` (agent or floor)."""
    return ['bench-%s-%02d' % (side, index) for index in range(count)]


class FleetBench(fixtures.Fixture):
    """A private broker with a controller and every host provisioned.

    Agents and floor servers start as :meth:`grow` asks.

    :param levels: the numbers of hosts to measure at; as many agent
        and floor hosts as the largest are provisioned
    :param agent_options: the agents' ``{group: {name: value}}``
    """

    def __init__(self, levels, agent_options):
        super().__init__()
        self.most = max(levels)
        self.agent_options = dict(
            agent_options, fleet={'vhost_per_host': True},
            oslo_messaging_rabbit={'heartbeat_rate': HEARTBEAT_RATE})
        self.agents = []
        self.floors = []

    def _setUp(self):
        self.broker = self.useFixture(private_rabbitmq.PrivateRabbitMQ())
        self._passwords = {}
        ctl = fleetbroker.DefinitionsCtl(
            node=self.broker.node,
            executable=fleetbroker.node_rabbitmqctl(self.broker))
        provision.add_controller(ctl, TOPIC, CONTROLLER,
                                 password=self._password(CONTROLLER))
        for host in (host_names('agent', self.most) +
                     host_names('floor', self.most)):
            provision.add_host(ctl, TOPIC, host, [CONTROLLER],
                               password=self._password(host))
        ctl.apply()
        fleetbroker.check(ctl)
        #: what the controller reaches every host by
        self.controller_template = self.url(CONTROLLER, '{host}')

    def _password(self, user):
        self._passwords[user] = secrets.token_hex(16)
        return self._passwords[user]

    def url(self, user, host):
        """``user``'s transport URL to the vhost of ``host``."""
        return 'rabbit://%s:%s@127.0.0.1:%d/%s-%s' % (
            user, self._passwords[user], self.broker.port, TOPIC, host)

    def grow(self, count):
        """Have ``count`` agents and as many floor servers serving.

        The new ones start together; each is waited for then.
        """
        hosts = list(zip(host_names('agent', count),
                         host_names('floor', count)))[len(self.agents):]
        started = []
        for agent_host, floor_host in hosts:
            agent = self.useFixture(ft_fixtures.AgentFixture(
                'fake', host=agent_host, exchange=vhosts.EXCHANGE,
                transport_url=self.url(agent_host, agent_host),
                client_url=self.url(CONTROLLER, agent_host),
                options=self.agent_options, start=False))
            guests.write_image(agent)
            agent.start(wait=False)
            floor = bare.BareProcess(self.url(floor_host, floor_host),
                                     vhosts.EXCHANGE, TOPIC, floor_host,
                                     heartbeat_rate=HEARTBEAT_RATE)
            floor.start(wait=False)
            self.addCleanup(floor.stop)
            started.append((agent, floor))
        # Registered after their own cleanups, so run before them: every
        # process is told to stop at once, then each is waited for.
        self.addCleanup(self._signal, started)
        for agent, floor in started:
            agent.wait_ready()
            floor.wait_ready()
            self.agents.append(agent)
            self.floors.append(floor)

    @staticmethod
    def _signal(started):
        for agent, floor in started:
            for process in (agent.process, floor.process):
                if process.poll() is None:
                    process.terminate()

    def pids(self, side, count):
        """The process ids of the first ``count`` servers of ``side``."""
        servers = self.agents if side == 'agent' else self.floors
        return [server.process.pid for server in servers[:count]]


class Load(object):
    """One process of the load generator (:mod:`tools.bench.fleet_load`).

    :param bench: the :class:`FleetBench`
    :param hosts: every host it will call
    :param first: the position of its first thread among all threads
    """

    def __init__(self, bench, hosts, first):
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'tools.bench.fleet_load'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=bare.FLOOR_ENV)
        self._send({'url_template': bench.controller_template,
                    'hosts': hosts, 'threads': LOAD_THREADS,
                    'first': first})

    def _send(self, order):
        self.process.stdin.write(json.dumps(order) + '\n')
        self.process.stdin.flush()

    def receive(self):
        """Its next answer.

        :raises RuntimeError: it exited instead
        """
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError('a load process exited with %s'
                               % self.process.wait())
        return json.loads(line)

    def order(self, op, hosts, start, end):
        self._send({'op': op, 'hosts': hosts, 'start': start, 'end': end})

    def stop(self):
        """Let it exit, which closes its connections."""
        self.process.stdin.close()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


def _cpu(pids):
    return sum(procstat.cpu_seconds(pid) for pid in pids)


def _window(bench, loads, op, side, count, seconds):
    """One window of ``op`` on the first ``count`` hosts of ``side``.

    :returns: ``{figure: value}``, figures of :data:`FIGURES`
    """
    hosts = host_names(side, count)
    watched = {'server': bench.pids(side, count),
               'broker': [bench.broker.pid],
               'load': [load.process.pid for load in loads]}
    before = {part: _cpu(pids) for part, pids in watched.items()}
    start = time.monotonic() + LEAD_S
    for load in loads:
        load.order(op, hosts, start, start + seconds)
    answers = [load.receive() for load in loads]
    used = {part: _cpu(pids) - before[part]
            for part, pids in watched.items()}
    errors = [error for answer in answers for error in answer['errors']]
    if errors:
        raise RuntimeError('%s calls to the %s hosts failed: %s'
                           % (op, side, '; '.join(errors[:5])))
    latencies = [x for answer in answers for x in answer['latencies']]
    calls = len(latencies)
    figures = {'per_s': calls / (max(a['last'] for a in answers) - start),
               'p50_s': stats.percentile(latencies, 50),
               'p99_s': stats.percentile(latencies, 99)}
    for part, seconds_used in used.items():
        figures['%s_cpu_s' % part] = seconds_used / calls
    return figures


def _level(bench, count, pairs, seconds):
    """Measure ``pairs`` pairs of windows of each op with ``count`` hosts.

    :returns: ``{figure name: Result}``, e.g. ``call_p99_s``
    """
    bench.grow(count)
    hosts = host_names('agent', count) + host_names('floor', count)
    loads = [Load(bench, hosts, index * LOAD_THREADS)
             for index in range(LOAD_PROCESSES)]
    try:
        for load in loads:
            if load.receive() != 'ready':
                raise RuntimeError('a load process did not get ready')
        measured = {}
        for op, noun in OPS:
            floor, agent = stats.interleaved(
                pairs,
                lambda: _window(bench, loads, op, 'floor', count, seconds),
                lambda: _window(bench, loads, op, 'agent', count, seconds))
            for figure, (title, unit) in FIGURES.items():
                name = '%s_%s' % (noun, figure)
                measured[name] = stats.Result(
                    'fleet', '%s, %d hosts' % (title % noun, count), unit,
                    [one[figure] for one in floor],
                    [one[figure] for one in agent])
    finally:
        for load in loads:
            load.stop()
    return measured


def run(levels, pairs, seconds, agent_options):
    """Measure the fleet at each number of hosts.

    :param levels: the numbers of hosts, ascending
    :param pairs: pairs of windows of each op at each level
    :param seconds: the length of a window
    :param agent_options: the agents' ``{group: {name: value}}`` (the
        message-path scenarios' own)
    :returns: a :class:`tools.bench.stats.Sweep`; its extra holds the
        resident memory (MiB) of each agent and floor server by level,
        and the load's settings
    """
    by_level = {}
    rss = {}
    began = time.monotonic()
    with FleetBench(levels, agent_options) as bench:
        for count in levels:
            print('  %d hosts (at %.0f s) ...' % (
                count, time.monotonic() - began), flush=True)
            by_level[count] = _level(bench, count, pairs, seconds)
            rss[str(count)] = {
                side: [procstat.rss_mib(pid)
                       for pid in bench.pids(side, count)]
                for side in ('agent', 'floor')}
        print('  stopping (at %.0f s) ...' % (time.monotonic() - began),
              flush=True)
    print('  fleet done in %.0f s' % (time.monotonic() - began), flush=True)
    return stats.Sweep(
        'fleet', 'A fleet on one broker: N agents, N bare servers',
        by_level,
        floor_label='N bare oslo.messaging servers, one per vhost like '
                    'the agents\', answering get_host_status, '
                    'create_instance and delete_instance trivially',
        extra={'rss_mib': rss, 'window_s': seconds, 'pairs': pairs,
               'load_processes': LOAD_PROCESSES,
               'load_threads': LOAD_THREADS,
               'calls_in_flight': LOAD_PROCESSES * LOAD_THREADS})
