"""A controller's view of many compute hosts: a transport per host.

With one vhost per host (:mod:`computeagent.fleet`), a controller reaches
each host through that host's vhost: a transport URL per host, made from
a template in which ``{host}`` stands for the host's name, e.g.
``rabbit://controller:PASSWORD@broker:5672/computeagent-{host}``. The
transports are made on first use and kept (a transport holds a
connection pool and a reply queue; making one per request would cost a
connection and a queue each time). A template without ``{host}`` is one
shared vhost for every host, the agents' ``[DEFAULT] control_exchange``
then being the controller's too.

Notifications stay in the vhost of the host that sent them: a listener
per host (:meth:`Fleet.notification_listener`) reads them.
"""

import threading

import oslo_messaging

from computeagent.api import context
from computeagent.api import rpcapi
from computeagent.fleet import vhosts

#: what stands for the host's name in a transport URL template
PLACEHOLDER = '{host}'


class Fleet(object):
    """The transports and clients of a controller, one per host's vhost.

    :param conf: the controller's ConfigOpts; ``cfg.CONF`` (oslo.messaging
        18 registers ``oslo_messaging_tracing`` there only, and a client
        on a private ``ConfigOpts()`` fails with NoSuchOptError)
    :param url_template: transport URL, ``{host}`` standing for the host;
        None: the controller's ``[DEFAULT] transport_url``, one vhost
    :param topic: the agents' RPC topic
    """

    def __init__(self, conf, url_template, topic='computeagent'):
        self.conf = conf
        self.url_template = url_template
        self.topic = topic
        self.per_host = PLACEHOLDER in (url_template or '')
        # amq.topic in every per-host vhost; one shared vhost: the
        # transport's control_exchange, as the agents'.
        self.exchange = vhosts.EXCHANGE if self.per_host else None
        self._rpc = {}
        self._notification = {}
        self._lock = threading.Lock()

    def url(self, host):
        """The transport URL of ``host`` (None: the default)."""
        if not self.per_host:
            return self.url_template
        vhosts.check_host_name(host)
        return self.url_template.replace(PLACEHOLDER, host)

    def _cached(self, cache, host, make):
        key = host if self.per_host else None
        with self._lock:
            transport = cache.get(key)
            if transport is None:
                transport = cache[key] = make(self.conf, url=self.url(host))
            return transport

    def transport(self, host):
        """The RPC transport of ``host``, made once."""
        return self._cached(self._rpc, host, rpcapi.get_transport)

    def notification_transport(self, host):
        """The notification transport of ``host``, made once."""
        return self._cached(self._notification, host,
                            oslo_messaging.get_notification_transport)

    def api(self, host, timeout=None, version_cap=rpcapi.API_VERSION):
        """A :class:`rpcapi.ComputeAgentAPI` of ``host``."""
        return rpcapi.ComputeAgentAPI(
            self.transport(host), host, topic=self.topic, timeout=timeout,
            version_cap=version_cap, exchange=self.exchange)

    def notification_listener(self, hosts, endpoints, pool=None):
        """A listener of the notifications of ``hosts``, not started.

        :param endpoints: oslo.messaging notification endpoints (methods
            named by priority: ``info``, ``error``, ...)
        :param pool: a listener pool name, which is the name of its
            queue: listeners of one pool share the notifications; without
            one, the listener reads the queue the agents' notifications
            wait in (one reader per queue). In a per-host vhost a
            controller may declare only queues named ``notifications.*``.
        :returns: :class:`FleetListener`
        """
        hosts = list(hosts)
        if not self.per_host:
            # One vhost: one listener sees every host's notifications.
            hosts = hosts[:1]
        listeners = [
            oslo_messaging.get_notification_listener(
                self.notification_transport(host),
                [oslo_messaging.Target(topic=vhosts.NOTIFICATIONS,
                                       exchange=self.exchange)],
                endpoints, executor='threading', pool=pool,
                serializer=context.RequestContextSerializer())
            for host in hosts]
        return FleetListener(listeners)

    def cleanup(self):
        """Close every transport made, all at once.

        Each waits for its reply listener's current poll to end (up to
        a heartbeat's share of seconds): one after another, a fleet's
        would take minutes.
        """
        with self._lock:
            transports = (list(self._rpc.values()) +
                          list(self._notification.values()))
            self._rpc.clear()
            self._notification.clear()
        closers = [threading.Thread(target=transport.cleanup)
                   for transport in transports]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join()


class FleetListener(object):
    """The notification listeners of several hosts, run together."""

    def __init__(self, listeners):
        self.listeners = listeners

    def start(self):
        for listener in self.listeners:
            listener.start()

    def stop(self):
        """Stop taking notifications and wait for those being handled."""
        for listener in self.listeners:
            listener.stop()
        for listener in self.listeners:
            listener.wait()
