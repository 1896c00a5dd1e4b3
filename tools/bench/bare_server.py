"""A bare oslo.messaging RPC server: the floor of the agent's message path.

Run as ``python -m tools.bench.bare_server URL EXCHANGE TOPIC SERVER
HEARTBEAT_RATE``; it serves until SIGTERM, with the same executor and
heartbeat settings as the agent under the bench, and endpoints that do
nothing. It imports no more than a server needs, so that its start is a
floor too; :class:`tools.bench.bare.BareServer` runs it as a process.
"""

import signal
import sys
import threading

from oslo_config import cfg
import oslo_messaging


class Endpoint(object):
    """Trivial answers to the methods the bench calls."""

    def get_host_status(self, ctxt):
        return {'host': 'bare'}

    def list_instances(self, ctxt):
        return []

    def create_instance(self, ctxt, spec):
        return {'uuid': spec['uuid'], 'state': 'running'}

    def delete_instance(self, ctxt, uuid):
        return {'uuid': uuid, 'deleted': True}


def serve(url, exchange, topic, server, heartbeat_rate):
    """Serve the trivial endpoint until SIGTERM.

    :param url: the broker's transport URL
    :param exchange: the control exchange; an ``amq.*`` one is durable,
        so the server declares durable queues, as the agent does there
    :param topic: the RPC topic
    :param server: the server name (its own queue ``topic.server``)
    :param heartbeat_rate: ``[oslo_messaging_rabbit] heartbeat_rate``
    """
    # cfg.CONF: a private ConfigOpts lacks options oslo.messaging reads
    # (oslo_messaging_tracing); the transport registers the rest, and
    # connects only once the server starts, after the override.
    conf = cfg.CONF
    conf([], project='computeagent-bench', default_config_files=[])
    transport = oslo_messaging.get_rpc_transport(conf, url=url)
    conf.set_override('heartbeat_rate', int(heartbeat_rate),
                      group='oslo_messaging_rabbit')
    if exchange.startswith('amq.'):
        conf.set_override('amqp_durable_queues', True,
                          group='oslo_messaging_rabbit')
    rpc = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(exchange=exchange, topic=topic,
                                         server=server),
        [Endpoint()], executor='threading')
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    rpc.start()
    # Its queues are declared now: what is sent from here is answered.
    print('ready', flush=True)
    stopping.wait()
    rpc.stop()
    rpc.wait()
    transport.cleanup()


if __name__ == '__main__':
    serve(*sys.argv[1:6])
