"""Real services and a real agent process for functional tests.

Nothing here imports the project: the agent runs as its installed console
script and is driven by a plain oslo.messaging client, exactly as a
controller written by someone else would drive it.
"""

import atexit
import grp
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import uuid as uuid_mod

import amqp
import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
VHOST = 'computeagent-functional'
BROKER = 'rabbit://guest:guest@127.0.0.1:5672/' + VHOST
#: ``[oslo_messaging_rabbit] heartbeat_rate`` of every connection the tests
#: make, the agent's included. A consumer (the agent's RPC server, the
#: notification listener, an RPC client's reply waiter) sees that it was
#: told to stop only when its wait for the next message ends, and waits
#: heartbeat_timeout_threshold / heartbeat_rate / 2 seconds, at most 5:
#: with the defaults (60 / 3 / 2) an idle one took 5 s to stop, and every
#: test stopped three. 60 / 150 / 2 is 0.2 s; the heartbeat itself (60 s)
#: is unchanged.
HEARTBEAT_RATE = 150

_services_lock = threading.Lock()
_services_ready = False


def ensure_services():
    """Start RabbitMQ, virtlogd and libvirtd unless running; make the vhost.

    The project's own script does it, so the tests start services exactly
    as an operator's machine would; it is not run when what it would find
    is already there (its three rabbitmqctl calls each boot an Erlang VM:
    several seconds at the start of every test process).
    """
    global _services_ready
    with _services_lock:
        if _services_ready:
            return
        if not _services_running():
            subprocess.run(['bash', os.path.join(TOP, 'tools',
                                                 'start-services.sh')],
                           check=True, stdout=subprocess.DEVNULL)
        # Each rabbitmqctl boots an Erlang VM (1-4 s): only when the
        # tests' vhost cannot be used yet.
        if not _vhost_usable():
            # Two test workers may race here; the loser's error is benign.
            subprocess.run(['rabbitmqctl', '-q', 'add_vhost', VHOST],
                           capture_output=True)
            subprocess.run(['rabbitmqctl', '-q', 'set_permissions', '-p',
                            VHOST, 'guest', '.*', '.*', '.*'], check=True,
                           capture_output=True)
        _services_ready = True


def _system_daemon(name):
    """Whether the system daemon runs (by its pid file, as the script)."""
    try:
        with open('/run/%s.pid' % name) as f:
            pid = int(f.read().strip())
        return os.readlink('/proc/%d/exe' % pid) == '/usr/sbin/' + name
    except (OSError, ValueError):
        return False


def _services_running():
    """Whether tools/start-services.sh would find nothing to do.

    Its checks: RabbitMQ answers (here: the tests' vhost can be used),
    virtlogd and libvirtd run, libvirtd's socket is group libvirt's with
    mode 0770 (tools/configure-libvirtd.sh) and /dev/kvm, if any, is
    group kvm's with mode 0660.
    """
    try:
        sock = os.stat('/run/libvirt/libvirt-sock')
        if (grp.getgrgid(sock.st_gid).gr_name, stat.S_IMODE(sock.st_mode)) \
                != ('libvirt', 0o770):
            return False
        if os.path.exists('/dev/kvm'):
            kvm = os.stat('/dev/kvm')
            if (grp.getgrgid(kvm.st_gid).gr_name,
                    stat.S_IMODE(kvm.st_mode)) != ('kvm', 0o660):
                return False
    except (OSError, KeyError):
        return False
    return (_system_daemon('virtlogd') and _system_daemon('libvirtd') and
            _vhost_usable())


def _broker():
    """A plain AMQP connection (not yet open) to the tests' vhost."""
    return amqp.Connection(host='127.0.0.1:5672', userid='guest',
                           password='guest', virtual_host=VHOST,
                           connect_timeout=10)


def _vhost_usable():
    """Whether guest may open the tests' vhost and declare in it."""
    conn = _broker()
    try:
        conn.connect()
        # Declaring needs the configure permission; the queue goes with
        # the connection.
        conn.channel().queue_declare(exclusive=True)
        return True
    except (amqp.exceptions.AMQPError, OSError):
        return False
    finally:
        conn.collect()


def file_tail(path, lines=60):
    """The last ``lines`` lines of a log file, or ``(no log)``."""
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return '(no log)'


def console_script(name):
    """The installed console script next to this interpreter."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(candidate):
        return candidate
    found = shutil.which(name)
    if found is None:
        raise RuntimeError('%s is not installed in this environment' % name)
    return found


class NotificationCollector(object):
    """An oslo.messaging notification endpoint that remembers everything."""

    def __init__(self):
        self.received = []
        self._cond = threading.Condition()

    def _record(self, priority, ctxt, publisher_id, event_type, payload,
                metadata):
        with self._cond:
            self.received.append({'priority': priority, 'ctxt': ctxt,
                                  'publisher_id': publisher_id,
                                  'event_type': event_type,
                                  'payload': payload,
                                  'metadata': metadata})
            self._cond.notify_all()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('info', ctxt, publisher_id, event_type, payload,
                     metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('error', ctxt, publisher_id, event_type, payload,
                     metadata)

    def mark(self):
        """How many notifications came so far (for ``since``)."""
        with self._cond:
            return len(self.received)

    def _find(self, event_type, predicate, since):
        for item in self.received[since:]:
            if item['event_type'] == event_type and (
                    predicate is None or predicate(item)):
                return item
        return None

    def arrived(self, event_type, timeout, since=0):
        """The first notification of that type after ``since``, or None.

        Waits at most ``timeout`` seconds for it.
        """
        with self._cond:
            self._cond.wait_for(
                lambda: self._find(event_type, None, since), timeout)
            return self._find(event_type, None, since)

    def wait_for(self, event_type, timeout=30, predicate=None, since=0):
        """The first notification of that type (matching predicate)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                item = self._find(event_type, predicate, since)
                if item is not None:
                    return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        'no %s notification within %s s; got %s'
                        % (event_type, timeout,
                           [i['event_type'] for i in self.received[since:]]))
                self._cond.wait(remaining)

    def of_type(self, event_type, since=0):
        with self._cond:
            return [i for i in self.received[since:]
                    if i['event_type'] == event_type]

    def view(self):
        """The notifications that come from now on (one test's)."""
        return NotificationView(self, self.mark())


class NotificationView(object):
    """A collector's notifications from a point on; the same methods."""

    def __init__(self, collector, since):
        self._collector = collector
        self._since = since

    def wait_for(self, event_type, timeout=30, predicate=None):
        return self._collector.wait_for(event_type, timeout, predicate,
                                        since=self._since)

    def of_type(self, event_type):
        return self._collector.of_type(event_type, since=self._since)


class AgentFixture(fixtures.Fixture):
    """One agent process with its own host name, exchange and directories.

    :param driver: the virt driver to load
    :param options: extra ``{group: {name: value}}`` configuration
    :param user: run the agent as this user (util-linux ``setpriv``, its
        groups from /etc/group) instead of root; it owns the instances
        path and the lock path
    :param capabilities: with ``user``, the only capabilities the agent
        keeps (ambient), by setpriv's names: ``['dac_read_search']``
    :param script: the agent's console script; default the one installed
        next to this interpreter
    :param transport_url: the broker of the agent's RPC (and of its
        notifications unless ``notification_url`` is given); default the
        shared one
    :param notification_url: a broker of the notifications alone, which
        the test's listener listens on (e.g. a PrivateRabbitMQ's, which
        the test may stop while RPC goes on)
    :param host: the agent's host name; default a new ``ft-<id>``
    :param exchange: the control exchange; default a new one of the
        agent's own. An ``amq.*`` exchange is durable, so both sides
        then declare durable queues.
    :param client_url: the broker the test's client and listener use
        (as a controller, e.g. another user); default ``transport_url``
    :param rabbit_options: ``[oslo_messaging_rabbit]`` options, ``{name:
        value}``, of the agent and of the test's own client and listener
        alike, e.g. ``ssl``, ``ssl_ca_file``, ``ssl_cert_file``,
        ``ssl_key_file`` and ``rabbit_login_method`` for a broker that
        takes TLS only
    """

    def __init__(self, driver='fake', options=None, start=True, user=None,
                 capabilities=(), script=None, transport_url=BROKER,
                 notification_url=None, host=None, exchange=None,
                 client_url=None, rabbit_options=None):
        super().__init__()
        self.host = host
        self.exchange = exchange
        # An exchange given is shared with other agents: theirs to keep.
        self._own_exchange = exchange is None
        self.client_url = client_url
        self.transport_url = transport_url
        self.notification_url = notification_url
        self.rabbit_options = rabbit_options or {}
        self.driver = driver
        self.options = options or {}
        self.start_agent = start
        self.user = user
        self.capabilities = list(capabilities)
        self.script = script

    def _setUp(self):
        ensure_services()
        suffix = uuid_mod.uuid4().hex[:10]
        self.host = self.host or 'ft-%s' % suffix
        self.exchange = self.exchange or 'ft-%s' % suffix
        self.dir = self.useFixture(fixtures.TempDir()).path
        # mkdtemp makes it 0700; QEMU runs as libvirt-qemu and must be
        # able to traverse it to reach the instance disks.
        os.chmod(self.dir, 0o755)
        self.instances_path = os.path.join(self.dir, 'instances')
        self.image_dir = os.path.join(self.dir, 'images')
        os.makedirs(self.image_dir)
        self.log_file = os.path.join(self.dir, 'agent.log')
        self.config_file = os.path.join(self.dir, 'computeagent.conf')
        self.lock_path = os.path.join(self.dir, 'locks')
        if self.user is not None:
            # What the agent writes must be its own, as when deployed.
            for path in (self.instances_path, self.lock_path):
                os.mkdir(path, 0o755)
                shutil.chown(path, self.user, self.user)
        self._write_config()
        self.conf = cfg.ConfigOpts()
        self.useFixture(conffixture.ConfFixture(self.conf))
        self.conf.set_override('control_exchange', self.exchange)
        self.conf.set_override('heartbeat_rate', HEARTBEAT_RATE,
                               group='oslo_messaging_rabbit')
        if self.exchange.startswith('amq.'):
            self.conf.set_override('amqp_durable_queues', True,
                                   group='oslo_messaging_rabbit')
        # The same as the agent's; set before the transports below are
        # made, which read them.
        for name, value in self.rabbit_options.items():
            self.conf.set_override(name, value,
                                   group='oslo_messaging_rabbit')
        self.transport = oslo_messaging.get_rpc_transport(
            self.conf, url=self.client_url or self.transport_url)
        self.client = oslo_messaging.get_rpc_client(
            self.transport,
            oslo_messaging.Target(topic='computeagent', server=self.host),
            timeout=120)
        self.notifications = NotificationCollector()
        self._processes = []
        self.addCleanup(self._shut_down, self._listen())
        self.process = None
        if self.start_agent:
            self.start()

    def _write_config(self):
        options = {
            'DEFAULT': {'transport_url': self.transport_url,
                        'host': self.host,
                        'control_exchange': self.exchange,
                        'virt_driver': self.driver,
                        'instances_path': self.instances_path,
                        'report_interval': 2,
                        'sync_power_state_interval': 5,
                        'graceful_shutdown_timeout': 30,
                        'debug': True},
            'image': {'directory': self.image_dir},
            'oslo_messaging_notifications': {'driver': 'messagingv2'},
            'oslo_concurrency': {'lock_path': self.lock_path},
        }
        if self.notification_url is not None:
            options['oslo_messaging_notifications']['transport_url'] = (
                self.notification_url)
        for group, values in self.options.items():
            options.setdefault(group, {}).update(values)
        options.setdefault('oslo_messaging_rabbit', {}).setdefault(
            'heartbeat_rate', HEARTBEAT_RATE)
        options['oslo_messaging_rabbit'].update(self.rabbit_options)
        lines = []
        for group, values in options.items():
            lines.append('[%s]' % group)
            for name, value in values.items():
                lines.append('%s = %s' % (name, value))
        with open(self.config_file, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def _listen(self):
        """Collect the agent's notifications; returns how to stop that."""
        transport = oslo_messaging.get_notification_transport(
            self.conf, url=(self.notification_url or self.client_url or
                            self.transport_url))
        listener = oslo_messaging.get_notification_listener(
            transport,
            [oslo_messaging.Target(topic='notifications',
                                   exchange=self.exchange)],
            [self.notifications], executor='threading',
            pool=self._listener_pool())
        listener.start()

        def stop():
            listener.stop()
            listener.wait()
            transport.cleanup()
        return stop

    def _listener_pool(self):
        """The listener's queue; None: the notifier's own.

        A broker of this test's notifications alone needs no pool, and
        without one the listener reads the queue the notifier declares
        whenever it (re)connects: what is published after a broker
        restart, before the listener is back, waits there for it. A
        controller in a host's own vhost reads that queue as well (it may
        declare no other).
        """
        if self.notification_url is not None or self.client_url:
            return None
        return 'ft-listener-%s' % self.host

    def _shut_down(self, stop_listening):
        """Stop the agent, remove its guests, close the test's messaging.

        The agent takes a second or more to stop (oslo.messaging's
        worker threads notice the stop once a second, then the
        interpreter exits); the listener and the RPC transport close
        meanwhile, side by side, each once its consumer's current wait
        for a message ends (at most 60 / HEARTBEAT_RATE / 2 seconds).
        """
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        closers = [threading.Thread(target=stop_listening),
                   threading.Thread(target=self.transport.cleanup)]
        for closer in closers:
            closer.start()
        try:
            for process in self._processes:
                self._stop_process(process)
            if self.driver == 'libvirt':
                # Once the agent stopped: no guest of it outlives it.
                self.remove_leftover_domains()
        finally:
            for closer in closers:
                closer.join()
        self._delete_queues()

    def _delete_queues(self):
        """Delete what this fixture's agent and listener declared.

        The agent's own queue and the listener's outlive their consumers
        (oslo.messaging declares them without auto-delete), and so does
        the exchange; the reply and fanout queues expire by themselves.
        The ``computeagent`` topic queue is every agent's: it stays.
        """
        if self.transport_url != BROKER:
            return  # a test's own broker goes away with the test
        conn = _broker()
        try:
            conn.connect()
            channel = conn.channel()
            for queue in ('computeagent.%s' % self.host,
                          self._listener_pool()):
                if queue is not None:
                    channel.queue_delete(queue)
            if self._own_exchange:
                channel.exchange_delete(self.exchange)
        finally:
            conn.collect()

    def start(self, wait=True):
        """Run the agent as its console script, as an operator would."""
        since = self.notifications.mark()
        log = open(self.log_file, 'ab')
        self.addCleanup(log.close)
        self.process = subprocess.Popen(
            self._as_user() + [self.script or console_script('computeagent'),
                               '--config-file', self.config_file],
            stdout=log, stderr=subprocess.STDOUT)
        self._processes.append(self.process)
        if wait:
            self.wait_ready(since=since)

    def _as_user(self):
        """setpriv's arguments for the user; nothing when run as root.

        The same privileges as the systemd unit's User=, groups and
        AmbientCapabilities= with CapabilityBoundingSet= and
        NoNewPrivileges=; setpriv then executes the agent itself, so
        the process signalled at the end is the agent.
        """
        if self.user is None:
            return []
        caps = ','.join(['-all'] + ['+' + c for c in self.capabilities])
        return ['setpriv', '--reuid=' + self.user, '--regid=' + self.user,
                '--init-groups', '--inh-caps=' + caps,
                '--ambient-caps=' + caps, '--bounding-set=' + caps,
                '--no-new-privs', '--']

    def wait_ready(self, timeout=90, since=0):
        """Until the agent answers a call; returns its host status.

        A call sent before the agent's queue exists is dropped. The agent
        sends compute.host.status once its RPC server serves (its queue
        exists then, and outlives the process), so a call sent after the
        first such notification since ``since`` is answered.
        """
        deadline = time.monotonic() + timeout
        while self.notifications.arrived('compute.host.status', 0.1,
                                         since=since) is None:
            if self.process.poll() is not None:
                raise AssertionError('the agent exited with %s:\n%s'
                                     % (self.process.returncode,
                                        self.log_tail()))
            if time.monotonic() > deadline:
                raise AssertionError('the agent did not start serving '
                                     'within %d s:\n%s'
                                     % (timeout, self.log_tail()))
        try:
            return self.call('get_host_status', rpc_timeout=max(
                deadline - time.monotonic(), 1))
        except oslo_messaging.MessagingTimeout:
            raise AssertionError('the agent did not answer within %d s:\n%s'
                                 % (timeout, self.log_tail()))

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signal the agent and wait for it; returns its exit status."""
        self.process.send_signal(sig)
        return self.process.wait(timeout)

    def _stop_process(self, process):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def remove_leftover_domains(self):
        """Destroy and undefine every domain this agent's instances had."""
        try:
            uuids = os.listdir(self.instances_path)
        except FileNotFoundError:
            return
        known = set(virsh('list', '--all', '--uuid').split())
        for uuid in uuids:
            if uuid in known:
                virsh('destroy', uuid, check=False)
                virsh('undefine', '--managed-save', uuid, check=False)

    def log_tail(self, lines=60):
        return file_tail(self.log_file, lines)

    def log_text(self):
        with open(self.log_file, errors='replace') as f:
            return f.read()

    def call(self, method, ctxt=None, rpc_timeout=None, **kwargs):
        """A plain RPC call; ``kwargs`` are the method's arguments."""
        client = (self.client.prepare(timeout=rpc_timeout) if rpc_timeout
                  else self.client)
        return client.call(ctxt or {}, method, **kwargs)

    def cast(self, method, ctxt=None, **kwargs):
        self.client.cast(ctxt or {}, method, **kwargs)

    def ctl(self, *args, check=True):
        """Run computeagent-ctl against this agent; returns the process."""
        cmd = [console_script('computeagent-ctl'), '--config-file',
               self.config_file] + list(args)
        result = subprocess.run(cmd, capture_output=True, text=True,
                                timeout=300)
        if check and result.returncode != 0:
            raise AssertionError('%s failed (%d):\n%s\n%s'
                                 % (' '.join(args), result.returncode,
                                    result.stdout, result.stderr))
        return result


class SharedAgent(object):
    """One test's share of an agent that other tests use too.

    What a test reads of the agent's activity, its log and its
    notifications, starts where the test started; the rest (calls, casts,
    paths, ``ctl``) is the agent's. Tests that share an agent use their
    own uuids and image names, assert nothing of the agent as a whole
    (every instance it has, every file of its instances path, its host
    totals) and never stop it.
    """

    def __init__(self, agent):
        self._agent = agent
        self._log_start = os.path.getsize(agent.log_file)
        self.notifications = agent.notifications.view()

    def __getattr__(self, name):
        return getattr(self._agent, name)

    def log_text(self):
        """The log the agent wrote since this test began."""
        with open(self._agent.log_file, 'rb') as f:
            f.seek(self._log_start)
            return f.read().decode('utf-8', errors='replace')

    def log_tail(self, lines=60):
        return ''.join(self.log_text().splitlines(True)[-lines:])

    def delete_all(self):
        """Delete every instance the agent has; await the notifications.

        For tests that share an agent they need empty (``empty=True``):
        whatever they made goes at their end, with its notifications,
        which the next test will not mistake for its own.
        """
        uuids = [r['uuid'] for r in self.call('list_instances')]
        for uuid in uuids:
            self.call('delete_instance', uuid=uuid)
        for uuid in uuids:
            self.notifications.wait_for(
                'instance.delete.end',
                predicate=lambda n: n['payload']['uuid'] == uuid)

    def assert_still_running(self):
        """A test during which the shared agent died fails for it."""
        if self._agent.process.poll() is not None:
            raise AssertionError('the shared agent exited with %s:\n%s'
                                 % (self._agent.process.returncode,
                                    self._agent.log_tail()))

    def stop(self, *args, **kwargs):
        raise AssertionError('a shared agent is not stopped by a test: '
                             'give the test an agent of its own')

    start = stop


_shared_agents = {}


def shared_agent(driver, options=None, empty=False):
    """A :class:`SharedAgent` of this process's agent of that driver.

    The agent (one per driver and options in each test process) starts
    for the first test that asks and stops when the process exits; one
    that died meanwhile is replaced.

    :param empty: the agent has no instance: one that has any (a test
        before could not delete what it made) is replaced too
    """
    key = (driver, json.dumps(options or {}, sort_keys=True))
    agent = _shared_agents.get(key)
    if agent is not None and (agent.process.poll() is not None or (
            empty and agent.call('list_instances'))):
        del _shared_agents[key]
        agent.cleanUp()
        agent = None
    if agent is None:
        agent = AgentFixture(driver, options=options)
        agent.setUp()
        if not _shared_agents:
            atexit.register(_stop_shared_agents)
        _shared_agents[key] = agent
    return SharedAgent(agent)


def _stop_shared_agents():
    while _shared_agents:
        _key, agent = _shared_agents.popitem()
        agent.cleanUp()


def virsh(*args, check=True):
    """Run virsh on the system libvirtd; returns its output."""
    result = subprocess.run(['virsh', '-q', '-c', 'qemu:///system'] +
                            list(args), capture_output=True, text=True,
                            timeout=120)
    if check and result.returncode != 0:
        raise AssertionError('virsh %s failed: %s'
                             % (' '.join(args), result.stderr))
    return result.stdout


def load_corpus(name):
    path = os.path.join(TOP, 'tests', 'corpus', name)
    with open(path) as f:
        return json.load(f)


def dedent(text):
    return textwrap.dedent(text).lstrip()
