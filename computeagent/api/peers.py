"""Agents asking each other: the peer channel of live migration.

A live migration's source asks the destination's agent to prepare, to
adopt the record once the guest has moved, or to forget the guest if it
did not come (:mod:`computeagent.compute.migration`). Those three
methods, and nothing else, are served on a topic of their own,
``<rpc_topic>-peer`` (:class:`PeerEndpoint`): with one vhost per host
(:mod:`computeagent.fleet`), a host allowed to migrate to another may
publish only to that topic there, so it can never send that host any
request of docs/api.md.

The source reaches the destination with its own credentials: in the
destination's vhost when each host has one (its transport URL with the
vhost replaced), through its own transport otherwise.
"""

import threading

import oslo_messaging

from computeagent.api import context
from computeagent.api import dispatch
from computeagent import exception
from computeagent.fleet import vhosts
from computeagent.schema import instance

#: the version of the peer protocol (agents of one release talk to each
#: other; a change is a new version, as for docs/api.md)
PEER_API_VERSION = '1.0'


peer_topic = vhosts.peer_topic


class PeerEndpoint(object):
    """What another host's agent may ask this one.

    :param migration: the LiveMigration of this host
    """

    target = oslo_messaging.Target(version=PEER_API_VERSION)

    def __init__(self, migration):
        self.migration = migration

    @dispatch.api_method
    def prepare_live_migration(self, ctxt, uuid, source_host):
        source_host = instance.validate_host(source_host, 'source_host')
        return self.migration.prepare_incoming(uuid, source_host)

    @dispatch.api_method
    def finish_live_migration(self, ctxt, uuid):
        return self.migration.finish_incoming(uuid)

    @dispatch.api_method
    def abort_live_migration(self, ctxt, uuid):
        self.migration.abort_incoming(uuid)


class Peers(object):
    """This agent's client of other hosts' agents.

    :param conf: the agent's ConfigOpts
    :param transport: the agent's own RPC transport
    :param timeout: seconds a call to another agent may take
    """

    def __init__(self, conf, transport, timeout=60):
        self.conf = conf
        self.transport = transport
        self.timeout = timeout
        self.per_host = conf.fleet.vhost_per_host
        self._transports = {}
        self._lock = threading.Lock()

    def _url(self, host):
        """This agent's transport URL with ``host``'s vhost."""
        url = oslo_messaging.TransportURL.parse(self.conf,
                                                self.conf.transport_url)
        return str(oslo_messaging.TransportURL(
            self.conf, transport=url.transport,
            virtual_host=vhosts.vhost_name(self.conf.rpc_topic, host),
            hosts=url.hosts, query=url.query))

    def _transport(self, host):
        if not self.per_host:
            return self.transport
        with self._lock:
            transport = self._transports.get(host)
            if transport is None:
                transport = self._transports[host] = (
                    oslo_messaging.get_rpc_transport(
                        self.conf, url=self._url(host)))
            return transport

    def _client(self, host):
        target = oslo_messaging.Target(
            topic=peer_topic(self.conf.rpc_topic), server=host,
            version=PEER_API_VERSION)
        return oslo_messaging.get_rpc_client(
            self._transport(host), target, timeout=self.timeout,
            serializer=context.RequestContextSerializer())

    def _call(self, ctxt, host, method, **kwargs):
        """Call ``host``'s agent; its refusal is a MigrationFailed.

        :raises: MigrationFailed with the other agent's reason;
            oslo.messaging's errors (MessagingTimeout: no answer)
        """
        try:
            return self._client(host).call(ctxt, method, **kwargs)
        except oslo_messaging.RemoteError as error:
            raise exception.MigrationFailed(
                reason='%s refused: %s' % (host, error.value))

    def prepare(self, ctxt, host, uuid, source_host):
        """Ask ``host`` to take ``uuid``; returns its migration target."""
        return self._call(ctxt, host, 'prepare_live_migration', uuid=uuid,
                          source_host=source_host)

    def finish(self, ctxt, host, uuid):
        """Tell ``host`` the guest is there and the record is its own."""
        return self._call(ctxt, host, 'finish_live_migration', uuid=uuid)

    def abort(self, ctxt, host, uuid):
        """Tell ``host`` the guest is not coming."""
        self._client(host).cast(ctxt, 'abort_live_migration', uuid=uuid)

    def cleanup(self):
        with self._lock:
            transports = list(self._transports.values())
            self._transports.clear()
        for transport in transports:
            transport.cleanup()


def get_server(transport, conf, migration, serializer):
    """The RPC server of :class:`PeerEndpoint`, not started."""
    target = oslo_messaging.Target(topic=peer_topic(conf.rpc_topic),
                                   server=conf.host)
    return oslo_messaging.get_rpc_server(
        transport, target, [PeerEndpoint(migration)], serializer=serializer,
        access_policy=oslo_messaging.ExplicitRPCAccessPolicy)
