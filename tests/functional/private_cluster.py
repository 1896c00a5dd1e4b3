"""A RabbitMQ cluster of a test's own: ``size`` private nodes, one cluster.

Each node is a PrivateRabbitMQ (tests/functional/private_rabbitmq.py):
its own name, AMQP and distribution ports, directories and ``HOME``,
all on this machine. They share one Erlang cookie (written to each
``HOME``), without which nodes, and rabbitmqctl, may not talk to each
other.

The first node starts as a node of its own; once it runs, the others
start side by side, find it by peer discovery (``cluster_formation``'s
``classic_config``, naming the first node) and join it while they boot:
no ``rabbitmqctl stop_app``, ``join_cluster``, ``start_app`` afterwards
(six more Erlang VMs, a second or more of CPU each). Then
``cluster_status`` must list every node as running. Booting costs each
node 7 to 9 s of CPU, most of it before the node logs anything. A
cluster of three took 20 to 23 s on a quiet machine, 26 to 57 s at a
load average of 20 to 30 (one node alone 11 to 17 s then); starting the
first node before the others took 38 s at that load, but all three at
once once left a joiner waiting over 240 s (in CI), so the first goes
first.

A node stopped (``stop_node``) and started again (``start_node``)
keeps its database, hence its membership: it rejoins the cluster.

``url`` reaches every node, as oslo.messaging takes several brokers in
one transport URL (it shuffles them and fails over from one to the
next); ``transport_url(user, password, vhost)`` is the same for another
user and vhost.
"""

import functools
import json
import secrets
import signal
import threading
import time

import fixtures

from tests.functional import private_rabbitmq

#: seconds a node of the cluster may take to start
START_TIMEOUT = 240

#: How long a joining node retries to reach the first node's database:
#: the first boots at the same time (RabbitMQ's default, 10 times 0.5 s,
#: may be too short for it on a busy machine).
_DISCOVERY = ('cluster_formation.discovery_retry_limit = 600',
              'cluster_formation.discovery_retry_interval = 200')


class PrivateCluster(fixtures.Fixture):
    """``size`` private RabbitMQ nodes clustered together; ``url``.

    ``nodes``: the PrivateRabbitMQ fixtures, the first the one the
    others joined; ``setup_seconds``: how long setting up took.
    """

    def __init__(self, size=3):
        super().__init__()
        self.size = size

    def _setUp(self):
        started = time.monotonic()
        # Erlang's cookie: letters and digits.
        self.cookie = secrets.token_hex(20)
        first = self.useFixture(private_rabbitmq.PrivateRabbitMQ(
            start=False, cookie=self.cookie))
        join = _DISCOVERY + (
            'cluster_formation.peer_discovery_backend = classic_config',
            'cluster_formation.classic_config.nodes.1 = %s' % first.node)
        self.nodes = [first] + [
            self.useFixture(private_rabbitmq.PrivateRabbitMQ(
                start=False, cookie=self.cookie, config=join))
            for _ in range(self.size - 1)]
        # Every node's cleanup kills it (SIGKILL) and removes its
        # directory, whatever happens below.
        # The first node runs before any other boots: a joiner that found
        # it still booting once waited on its database for over 240 s
        # (beside CI's other workers). The joiners then boot side by side.
        first.start(timeout=START_TIMEOUT)
        in_parallel([functools.partial(node.start, timeout=START_TIMEOUT)
                     for node in self.nodes[1:]])
        running = self.running_nodes()
        expected = {node.node for node in self.nodes}
        if running != expected:
            raise AssertionError('the private cluster formed as %s, not %s; '
                                 'see the logs under %s'
                                 % (sorted(running), sorted(expected),
                                    [node.dir for node in self.nodes]))
        self.url = self.transport_url('guest', 'guest', '')
        self.setup_seconds = time.monotonic() - started

    def transport_url(self, user, password, vhost):
        """A transport URL of ``user`` in ``vhost`` naming every node."""
        return 'rabbit://%s/%s' % (','.join(
            '%s:%s@127.0.0.1:%d' % (user, password, node.port)
            for node in self.nodes), vhost)

    def node(self, name):
        """The PrivateRabbitMQ of that node name."""
        for node in self.nodes:
            if node.node == name:
                return node
        raise KeyError('no node %s in the private cluster' % name)

    def node_at(self, port):
        """The PrivateRabbitMQ whose AMQP port that is."""
        for node in self.nodes:
            if node.port == port:
                return node
        raise KeyError('no node of the private cluster listens on %s' % port)

    def running(self):
        """The nodes whose process runs (from this fixture's view)."""
        return [node for node in self.nodes if node.pid is not None]

    def ctl(self, *args, **kwargs):
        """rabbitmqctl on a node that runs; returns its output."""
        return self.running()[0].ctl(*args, **kwargs)

    def running_nodes(self):
        """The cluster's running members, by rabbitmqctl, as names."""
        status = json.loads(self.ctl('cluster_status', '--formatter',
                                     'json'))
        return set(status['running_nodes'])

    def stop_node(self, node, sig=signal.SIGTERM):
        """Stop one node: SIGTERM a clean stop, SIGKILL a crash."""
        node.stop(sig=sig)

    def start_node(self, node):
        """Start a stopped node again; it rejoins the cluster.

        Nothing happens when it runs. Returns once it serves AMQP,
        after it has synchronised with the running members.
        """
        if node.pid is None:
            node.start(timeout=START_TIMEOUT)


def in_parallel(funcs):
    """Run the callables side by side; raise the first one's error."""
    errors = []

    def run(func):
        try:
            func()
        except BaseException as error:
            errors.append(error)
    threads = [threading.Thread(target=run, args=(func,)) for func in funcs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
