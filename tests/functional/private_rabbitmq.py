"""A RabbitMQ node of a test's own, which it may stop and start again.

Stopping the shared broker would break every other test and engineer
using it, so a test that takes the broker away gets a node of its own:
its own node name, AMQP and distribution ports (free ones, on
127.0.0.1), Mnesia and log directories, configuration, enabled-plugins
file and ``HOME`` (hence its own Erlang cookie), all under a temp dir.
Only epmd, the Erlang port mapper, is shared: each node registers its
own name there. The directories outlive the node, so a node started
again keeps its durable exchanges, queues and persistent messages, as
after a real restart.

Clients reach it at ``url`` (user ``guest``, vhost ``/``).
"""

import os
import signal
import socket
import subprocess
import time
import uuid as uuid_mod

import amqp
import fixtures

SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
_POLL = 0.1


def _free_port():
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _alive(pid):
    """Whether a process that is not our child still runs (not a zombie)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, ProcessLookupError):
        return False


class PrivateRabbitMQ(fixtures.Fixture):
    """One RabbitMQ node for one test; ``url`` reaches it.

    :param start: start the node in setUp
    """

    def __init__(self, start=True):
        super().__init__()
        self.start_node = start
        self.pid = None

    def _setUp(self):
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.port = _free_port()
        self.dist_port = _free_port()
        self.node = 'ft-%s@%s' % (uuid_mod.uuid4().hex[:10],
                                  socket.gethostname().split('.')[0])
        self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
        config = os.path.join(self.dir, 'rabbitmq.conf')
        with open(config, 'w') as f:
            f.write('listeners.tcp.default = 127.0.0.1:%d\n'
                    'loopback_users.guest = true\n' % self.port)
        plugins = os.path.join(self.dir, 'enabled_plugins')
        with open(plugins, 'w') as f:
            f.write('[].\n')
        self.env = dict(
            os.environ,
            HOME=self.dir,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS='127.0.0.1',
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_CONFIG_FILE=config,
            RABBITMQ_ENABLED_PLUGINS_FILE=plugins,
            RABBITMQ_MNESIA_BASE=os.path.join(self.dir, 'mnesia'),
            RABBITMQ_LOG_BASE=os.path.join(self.dir, 'log'),
            RABBITMQ_PID_FILE=os.path.join(self.dir, 'rabbitmq.pid'),
            # The system's rabbitmq-env.conf would name the system node.
            RABBITMQ_CONF_ENV_FILE=os.path.join(self.dir, 'rabbitmq-env'))
        self.addCleanup(self.stop, sig=signal.SIGKILL)
        if self.start_node:
            self.start()

    def start(self, timeout=60):
        """Start the node and wait until it takes AMQP connections."""
        try:
            os.unlink(self.env['RABBITMQ_PID_FILE'])  # the last run's
        except FileNotFoundError:
            pass
        with open(os.path.join(self.dir, 'server.out'), 'ab') as out:
            subprocess.run([SERVER, '-detached'], env=self.env, check=True,
                           stdout=out, stderr=subprocess.STDOUT, timeout=60)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if time.monotonic() > deadline:
                raise AssertionError('the private RabbitMQ node %s did not '
                                     'start within %s s; see %s'
                                     % (self.node, timeout, self.dir))
            time.sleep(_POLL)
        with open(self.env['RABBITMQ_PID_FILE']) as f:
            self.pid = int(f.read().strip())

    def _answers(self):
        """Whether guest can open the default vhost now."""
        conn = amqp.Connection(host='127.0.0.1:%d' % self.port,
                               userid='guest', password='guest',
                               connect_timeout=2)
        try:
            conn.connect()
            return os.path.exists(self.env['RABBITMQ_PID_FILE'])
        except (amqp.exceptions.AMQPError, OSError):
            return False
        finally:
            conn.collect()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stop the node and wait until its process is gone.

        :param sig: SIGTERM stops it cleanly (clients see their
            connections closed); SIGKILL is a crash
        """
        if self.pid is None:
            return
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while _alive(self.pid):
            if time.monotonic() > deadline:
                raise AssertionError('RabbitMQ node %s (pid %d) did not '
                                     'exit' % (self.node, self.pid))
            time.sleep(_POLL)
        self.pid = None
