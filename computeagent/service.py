"""The agent process: transport, RPC server, notifier, periodic work.

One :class:`Service` per process. It puts together the store, the
notifier, the compute manager (:mod:`computeagent.compute.manager`) and
the RPC endpoint that serves docs/api.md with it
(:mod:`computeagent.api.endpoint`). It uses oslo.messaging's threading
executor (no eventlet monkey-patching anywhere), stops on request by
letting requests in flight finish, and runs the power-event thread and
the periodic host report, power-state sync and image-cache sweep on
plain threads.
"""

import os
import threading

from oslo_context import context as oslo_context
from oslo_log import log as logging
import oslo_messaging

from computeagent.api import context
from computeagent.api import endpoint as endpoint_mod
from computeagent.api import notifications
from computeagent.api import outbox as outbox_mod
from computeagent.api import peers as peers_mod
from computeagent.api import rpcserver
from computeagent.compute import manager as manager_mod
from computeagent.compute import recovery
from computeagent.compute import store as store_mod
from computeagent.fleet import agentconf
from computeagent.virt import driver as virt_driver

LOG = logging.getLogger(__name__)


class _Periodic(threading.Thread):
    """Calls ``func`` every ``interval`` seconds until stopped."""

    def __init__(self, name, interval, func, stop_event):
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.func = func
        self.stop_event = stop_event

    def run(self):
        while not self.stop_event.wait(self.interval):
            try:
                self.func()
            except Exception:
                # A periodic task must survive a bad round.
                LOG.exception('Periodic task %s failed', self.name)


class Service(object):
    """Everything one agent process runs."""

    def __init__(self, conf, transport=None, notification_transport=None,
                 driver=None):
        self.conf = conf
        # A vhost of its own sets and checks messaging options, which
        # must be done before the first transport reads them.
        agentconf.prepare(conf)
        self.transport = transport or oslo_messaging.get_rpc_transport(conf)
        notification_transport = (
            notification_transport or
            oslo_messaging.get_notification_transport(conf))
        self.driver = driver or virt_driver.load_driver(conf)
        self.serializer = context.RequestContextSerializer()
        os.makedirs(conf.instances_path, mode=0o755, exist_ok=True)
        self.store = store_mod.InstanceStore.from_conf(conf)
        # Every notification waits in the outbox until the broker has
        # taken it, across broker outages and restarts of the agent; on
        # an instances path shared with other hosts, an outbox each.
        outbox = outbox_mod.Outbox(
            outbox_mod.path_in(conf.instances_path, host=self.store.host),
            conf.notifications.outbox_max)
        self.notifier = notifications.Notifier(
            conf, notification_transport, conf.host,
            serializer=self.serializer, outbox=outbox)
        self.manager = manager_mod.ComputeManager(
            conf, self.driver, self.store, self.notifier)
        self.endpoint = endpoint_mod.ComputeEndpoint(self.manager)
        # Live migration asks the destination's agent, with this agent's
        # own credentials, on a topic that serves nothing else.
        self.peers = peers_mod.Peers(conf, self.transport)
        self.manager.migration.peers = self.peers
        self.server = None
        self.peer_server = None
        self._stop = threading.Event()
        self._threads = []

    def start(self):
        """Load records, connect the driver, recover, and begin serving.

        :raises: DriverError if the hypervisor cannot be reached
        """
        # First: recovery's notifications, and those a previous process
        # left in the outbox, go out before anything newer.
        self.notifier.start()
        count = self.store.load_all()
        LOG.info('Loaded %d instance records from %s', count,
                 self.conf.instances_path)
        self.driver.init_host(self.conf.host)
        # Before the RPC server starts: no request may see what a
        # previous process left half done.
        reconciler = self.manager.reconciler
        recovery.recover(reconciler)
        power_sync = self.manager.power_sync
        self.driver.register_event_listener(power_sync.handle_power_event)
        # A driver that lost its hypervisor lost its events too.
        self.driver.register_resync_listener(reconciler.request)
        # Recovery read every state already; this second look catches a
        # change between it and the listener's registration, which no
        # event would report.
        power_sync.sync_power_states()
        target = oslo_messaging.Target(topic=self.conf.rpc_topic,
                                       server=self.conf.host)
        # Creates run on a build pool of their own, as many at once as
        # there are RPC workers, so that no number of them can hold up
        # the other requests (computeagent.api.rpcserver).
        self.server = rpcserver.get_server(
            self.transport, target, [self.endpoint], self.serializer,
            build_pool_size=self.conf.rpc_workers)
        # The threading executor's pool is the server's to size; without
        # the override it would be oslo.messaging's own option.
        self.server.start(override_pool_size=self.conf.rpc_workers)
        self.peer_server = peers_mod.get_server(
            self.transport, self.conf, self.manager.migration,
            self.serializer)
        self.peer_server.start()
        events = threading.Thread(target=power_sync.process_events,
                                  args=(self._stop,), name='power-events',
                                  daemon=True)
        events.start()
        self._threads.append(events)
        # Periodic passes, and those the driver asks for, one at a time.
        passes = threading.Thread(
            target=reconciler.run,
            args=(self._stop, self.conf.sync_power_state_interval),
            name='reconciler', daemon=True)
        passes.start()
        self._threads.append(passes)
        self._start_periodic('host-status', self.conf.report_interval,
                             self._report_status)
        self._start_periodic('image-cache',
                             self.conf.image.cache_sweep_interval,
                             self.manager.cache_sweep.sweep)
        LOG.info('Serving topic %(topic)s as %(host)s with the %(driver)s '
                 'driver, building up to %(builds)d instances at once', {
                     'topic': self.conf.rpc_topic, 'host': self.conf.host,
                     'driver': self.conf.virt_driver,
                     'builds': self.manager.locks.max_builds})
        self._report_status()

    def _start_periodic(self, name, interval, func):
        if interval > 0:
            thread = _Periodic(name, interval, func, self._stop)
            thread.start()
            self._threads.append(thread)

    def _report_status(self):
        ctxt = oslo_context.RequestContext()
        self.notifier.host_status(ctxt, self.manager.host_status())

    def stop(self):
        """Stop taking requests and let those in flight finish."""
        self._stop.set()
        self.manager.reconciler.wake()
        if self.server is not None:
            LOG.info('Stopping: no new requests, finishing those in flight')
            self.server.stop()
            self.server.finish_builds()
            self.server.wait()
        if self.peer_server is not None:
            self.peer_server.stop()
            self.peer_server.wait()
        self.peers.cleanup()
        for thread in self._threads:
            thread.join(timeout=5)
        # Last, so the outcomes of the requests that finished above are
        # among what it delivers; the rest waits for the next start.
        self.notifier.stop(self.conf.notifications.shutdown_timeout)
        self.driver.cleanup_host()
        LOG.info('Stopped')
