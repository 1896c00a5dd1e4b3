"""The bare oslo.messaging server as a process beside the agent."""

import os
import subprocess
import sys

import amqp

from tests.functional import fixtures


#: The start-up trick the agent's console scripts use
#: (computeagent/cmd/__init__.py): without it eventlet, which
#: oslo.messaging imports, loads a DNS resolver nothing uses, and half of
#: the bare server's start would be that, not a floor.
_FLOOR_ENV = dict(os.environ, EVENTLET_NO_GREENDNS='yes')


class BareServer(object):
    """The bare server as a process beside the agent, on its exchange.

    :param agent: the agent whose broker and client it shares
    """

    def __init__(self, agent):
        self.url = agent.transport_url
        self.exchange = agent.exchange
        self.topic = 'bench-bare-%s' % agent.host
        self.server = 'bare'
        self.process = None
        self.client = agent.client.prepare(topic=self.topic,
                                           server=self.server)

    def start(self, wait=True):
        """Start the server process.

        :param wait: return once it serves (a call sent earlier, before
            its queue exists, would be dropped)
        :raises RuntimeError: it exited instead of serving
        """
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'tools.bench.bare_server', self.url,
             self.exchange, self.topic, self.server,
             str(fixtures.HEARTBEAT_RATE)],
            stdout=subprocess.PIPE, text=True, env=_FLOOR_ENV)
        if wait and self.process.stdout.readline().strip() != 'ready':
            raise RuntimeError('the bare server exited with %s'
                               % self.process.wait())

    def stop(self):
        self.process.terminate()
        self.process.wait(60)
        self.process.stdout.close()

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
