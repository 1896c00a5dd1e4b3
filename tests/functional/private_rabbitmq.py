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

With ``tls=`` a CertificateAuthority (tests/functional/tls_ca.py), the
node speaks TLS only, as a fleet's broker with certificate login would:
no plain AMQP listener; a TLS listener at ``port`` with a server
certificate of that CA (for ``localhost`` and ``127.0.0.1``) that takes
only clients with a certificate of that CA; and the EXTERNAL mechanism
alone, which logs a client in as its certificate's common name (the
``rabbitmq_auth_mechanism_ssl`` plugin), whatever user and password it
sends. A test makes the users its certificates name, with their
vhosts and permissions: ``ctl('add_user', ...)`` and so on (the node's
default user ``guest`` exists, but no certificate names it). ``url``
names no user then, and TLS clients need ``ssl``, ``ssl_ca_file``,
``ssl_cert_file``, ``ssl_key_file`` and ``rabbit_login_method =
EXTERNAL`` in ``[oslo_messaging_rabbit]``.

``ctl(*args)`` runs rabbitmqctl against the node (users, vhosts,
permissions, ``list_connections``) and returns its output.
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
# Not /usr/sbin/rabbitmqctl: run by root, that wrapper runs the tool as
# the rabbitmq user with its HOME, hence the system node's Erlang cookie.
CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl'
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
    :param tls: a set-up tls_ca.CertificateAuthority: the node speaks
        TLS only and logs clients in by their certificates (see above)
    :param cookie: the node's Erlang cookie (default: one of its own,
        which Erlang makes); nodes of one cluster share theirs
        (tests/functional/private_cluster.py)
    :param config: more lines of the node's ``rabbitmq.conf``
    """

    def __init__(self, start=True, tls=None, cookie=None, config=()):
        super().__init__()
        self.start_node = start
        self.tls = tls
        self.cookie = cookie
        self.extra_config = list(config)
        self.pid = None

    def _setUp(self):
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.port = _free_port()
        self.dist_port = _free_port()
        self.node = 'ft-%s@%s' % (uuid_mod.uuid4().hex[:10],
                                  socket.gethostname().split('.')[0])
        config = os.path.join(self.dir, 'rabbitmq.conf')
        plugins = os.path.join(self.dir, 'enabled_plugins')
        if self.tls is None:
            self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
            conf_text = ('listeners.tcp.default = 127.0.0.1:%d\n'
                         'loopback_users.guest = true\n' % self.port)
            plugins_text = '[].\n'
            # The plain listener's address, as the environment gives it.
            listener = {'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
                        'RABBITMQ_NODE_PORT': str(self.port)}
        else:
            self.url = 'rabbit://127.0.0.1:%d/' % self.port
            conf_text = self._tls_config()
            plugins_text = '[rabbitmq_auth_mechanism_ssl].\n'
            listener = {}
        with open(config, 'w') as f:
            f.write(conf_text)
            f.write(''.join(line + '\n' for line in self.extra_config))
        if self.cookie is not None:
            # HOME's, read by the node and by rabbitmqctl alike; Erlang
            # refuses a cookie file others may read.
            cookie_file = os.path.join(self.dir, '.erlang.cookie')
            fd = os.open(cookie_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                         0o400)
            with os.fdopen(fd, 'w') as f:
                f.write(self.cookie)
        with open(plugins, 'w') as f:
            f.write(plugins_text)
        self.env = dict(
            os.environ,
            HOME=self.dir,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_CONFIG_FILE=config,
            RABBITMQ_ENABLED_PLUGINS_FILE=plugins,
            RABBITMQ_MNESIA_BASE=os.path.join(self.dir, 'mnesia'),
            RABBITMQ_LOG_BASE=os.path.join(self.dir, 'log'),
            RABBITMQ_PID_FILE=os.path.join(self.dir, 'rabbitmq.pid'),
            # The system's rabbitmq-env.conf would name the system node.
            RABBITMQ_CONF_ENV_FILE=os.path.join(self.dir, 'rabbitmq-env'),
            # A node that cannot boot (a bad rabbitmq.conf) writes one;
            # by default into the working directory: the checkout.
            ERL_CRASH_DUMP=os.path.join(self.dir, 'erl_crash.dump'))
        # A TLS node has no plain listener, which these would name.
        for name in ('RABBITMQ_NODE_IP_ADDRESS', 'RABBITMQ_NODE_PORT'):
            self.env.pop(name, None)
        self.env.update(listener)
        self.addCleanup(self.stop, sig=signal.SIGKILL)
        if self.start_node:
            self.start()

    def _tls_config(self):
        """rabbitmq.conf of a TLS-only node with certificate login."""
        server = self.tls.server_certificate()
        return ''.join(line + '\n' for line in (
            'listeners.tcp = none',
            'listeners.ssl.default = 127.0.0.1:%d' % self.port,
            'ssl_options.cacertfile = %s' % self.tls.cert,
            'ssl_options.certfile = %s' % server.cert,
            'ssl_options.keyfile = %s' % server.key,
            # A client without a certificate of the CA is turned away
            # during the handshake, before any AMQP.
            'ssl_options.verify = verify_peer',
            'ssl_options.fail_if_no_peer_cert = true',
            # The only mechanism offered: no password logs anyone in.
            'auth_mechanisms.1 = EXTERNAL',
            'ssl_cert_login_from = common_name'))

    def start(self, timeout=60):
        """Start the node and wait until it has finished starting."""
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
                                     'start within %s s; see %s; its log '
                                     'ends:\n%s'
                                     % (self.node, timeout, self.dir,
                                        self.log_tail()))
            time.sleep(_POLL)
        with open(self.env['RABBITMQ_PID_FILE']) as f:
            self.pid = int(f.read().strip())

    def log_tail(self, lines=30):
        """The last lines of the node's logs (its directory goes away)."""
        tail = []
        log_dir = os.path.join(self.dir, 'log')
        names = sorted(os.listdir(log_dir)) if os.path.isdir(log_dir) else []
        for name in names:
            with open(os.path.join(log_dir, name), errors='replace') as f:
                tail.extend('%s: %s' % (name, line.rstrip())
                            for line in f.readlines()[-lines:])
        return '\n'.join(tail[-lines:]) or '(no log)'

    def _answers(self):
        """Whether the node has finished starting."""
        if self.tls is not None:
            return self._tls_answers()
        return self._guest_answers()

    def _tls_answers(self):
        """Whether the TLS node has finished starting.

        The fixture has no client certificate (nor user) of its own, so
        the node itself is asked (rabbitmqctl's await_startup). Each
        rabbitmqctl boots an Erlang VM, a second of CPU beside the
        starting node, so it runs once the TLS port takes connections:
        the listeners open near the end of the boot.
        """
        try:
            socket.create_connection(('127.0.0.1', self.port),
                                     timeout=2).close()
        except OSError:
            return False
        result = self._run_ctl(['await_startup', '--timeout', '30'])
        return (result.returncode == 0 and
                os.path.exists(self.env['RABBITMQ_PID_FILE']))

    def _guest_answers(self):
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

    def _run_ctl(self, args, timeout=120):
        return subprocess.run([CTL, '-q', '-n', self.node] + list(args),
                              env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def ctl(self, *args, timeout=120):
        """Run rabbitmqctl against this node; returns its output.

        Its environment is the node's: the same ``HOME``, hence the
        node's Erlang cookie. Each run boots an Erlang VM (a second or
        more).

        :raises: AssertionError, with rabbitmqctl's error output, when
            it fails
        """
        result = self._run_ctl(args, timeout)
        if result.returncode != 0:
            raise AssertionError('rabbitmqctl %s on %s failed (%d): %s%s'
                                 % (' '.join(args), self.node,
                                    result.returncode, result.stdout,
                                    result.stderr))
        return result.stdout

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
