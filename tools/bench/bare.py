"""The bare oslo.messaging server as a process beside the agent."""

import os
import subprocess
import sys

import amqp

from tests.functional import fixtures


#: The start-up trick the agent's console scripts use
#: (computeagent/cmd/__init__.py): without it eventlet, which
#: oslo.messaging imports, loads a DNS resolver nothing uses, and half of
#: the bare server's start would be that, not a floor. The bench's other
#: Python processes (the fleet's load) need no resolver either.
FLOOR_ENV = dict(os.environ, EVENTLET_NO_GREENDNS='yes')


class BareProcess(object):
    """A bare server process serving one target.

    :param url: the broker's transport URL
    :param exchange: the control exchange (an ``amq.*`` one is durable,
        and the server's queues then are too, as the agent's)
    :param topic: the RPC topic
    :param server: the server name (its own queue ``topic.server``)
    :param heartbeat_rate: ``[oslo_messaging_rabbit] heartbeat_rate``;
        default the tests' (a consumer then stops within 0.2 s)
    """

    def __init__(self, url, exchange, topic, server,
                 heartbeat_rate=fixtures.HEARTBEAT_RATE):
        self.url = url
        self.exchange = exchange
        self.topic = topic
        self.server = server
        self.heartbeat_rate = heartbeat_rate
        self.process = None

    def start(self, wait=True):
        """Start the server process.

        :param wait: return once it serves (a call sent earlier, before
            its queue exists, would be dropped)
        :raises RuntimeError: it exited instead of serving
        """
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'tools.bench.bare_server', self.url,
             self.exchange, self.topic, self.server,
             str(self.heartbeat_rate)],
            stdout=subprocess.PIPE, text=True, env=FLOOR_ENV)
        if wait:
            self.wait_ready()

    def wait_ready(self):
        """Wait until the started process serves.

        :raises RuntimeError: it exited instead of serving
        """
        if self.process.stdout.readline().strip() != 'ready':
            raise RuntimeError('the bare server exited with %s'
                               % self.process.wait())

    def stop(self):
        self.process.terminate()
        self.process.wait(60)
        self.process.stdout.close()


class BareServer(BareProcess):
    """The bare server as a process beside the agent, on its exchange.

    :param agent: the agent whose broker and client it shares
    """

    def __init__(self, agent):
        super().__init__(agent.transport_url, agent.exchange,
                         'bench-bare-%s' % agent.host, 'bare')
        self.client = agent.client.prepare(topic=self.topic,
                                           server=self.server)

    def call(self, method, **kwargs):
        return self.client.call({}, method, **kwargs)

    def delete_queues(self):
        """Remove what the server declared that outlives it."""
        conn = amqp.Connection(host='127.0.0.1:5672', userid='guest',
                               password='guest',
                               virtual_host=fixtures.VHOST)
        try:
            conn.connect()
            channel = conn.channel()
            for queue in (self.topic, '%s.%s' % (self.topic, self.server)):
                channel.queue_delete(queue)
        finally:
            conn.collect()
