"""The console proxy in this process, against a unix echo server.

The proxy's event loop runs in a thread; the test is the websocket
client (websockets' sync client) and holds the serial port's other end:
an echo server on a unix socket, as QEMU's ``unix`` chardev listens.
"""

import asyncio
import os
import pty
import threading
import time
import tty

import fixtures
import websockets.exceptions
from websockets.sync import client

from computeagent.console import proxy as proxy_mod
from computeagent.console import tokens
from computeagent.objects import console
from tests import base

UUID = '8a2f5c1e-3d4b-4c6a-9e7f-0b1c2d3e4f50'


def lh_poll(predicate, timeout=10):
    """Wait (without a fixed sleep) until ``predicate()`` is true."""
    event = threading.Event()
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('not within %s s' % timeout)
        event.wait(0.01)


class EventLoop(fixtures.Fixture):
    """An asyncio loop running in a thread of its own."""

    def _setUp(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever,
                                       daemon=True)
        self.thread.start()
        self.addCleanup(self._stop)

    def _stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(
            timeout)


class ProxyTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.store = tokens.TokenStore(os.path.join(self.dir, 'tokens'))
        self.events = self.useFixture(EventLoop())
        self.proxy = proxy_mod.ConsoleProxy(self.store)
        self.server = self.events.run(self.proxy.serve('127.0.0.1', 0))
        self.addCleanup(self._close_server)
        port = self.server.sockets[0].getsockname()[1]
        self.base_url = 'ws://127.0.0.1:%d/' % port
        self.socket_path = os.path.join(self.dir, 'serial0.sock')
        self.echoes = []
        #: every byte the guest received
        self.received = bytearray()
        self.echo = self.events.run(asyncio.start_unix_server(
            self._echo, self.socket_path))
        self.addCleanup(self._close_echo)

    def _close_server(self):
        async def close():
            self.server.close()
            await self.server.wait_closed()
        self.events.run(close())

    def _close_echo(self):
        async def close():
            self.echo.close()
            for writer in self.echoes:
                writer.close()
        self.events.run(close())

    async def _echo(self, reader, writer):
        """The guest of these tests: it echoes in upper case."""
        self.echoes.append(writer)
        while data := await reader.read(100):
            self.received += data
            writer.write(data.upper())
            await writer.drain()
        writer.close()

    def token(self, port=0, ttl=600, target=None):
        target = target or console.ConsoleTarget(kind='unix',
                                                 path=self.socket_path)
        return self.store.issue(UUID, port, target, ttl)[0]

    def connect(self, token):
        return client.connect(self.base_url + '?token=' + token,
                              open_timeout=10, close_timeout=5)

    def refused(self, token):
        """:returns: (status, body) of a refused handshake"""
        error = self.assertRaises(websockets.exceptions.InvalidStatus,
                                  self.connect, token)
        return (error.response.status_code,
                error.response.body.decode().strip())


class TestSessions(ProxyTestCase):

    def test_bytes_go_both_ways_as_binary_frames(self):
        with self.connect(self.token()) as ws:
            ws.send(b'hello')
            self.assertEqual(b'HELLO', ws.recv(timeout=10))
            ws.send('text frames too')
            self.assertEqual(b'TEXT FRAMES TOO', ws.recv(timeout=10))
            self.assertEqual({(UUID, 0)}, self.proxy.sessions())

    def test_a_token_works_once(self):
        token = self.token()
        with self.connect(token) as ws:
            ws.send(b'a')
            ws.recv(timeout=10)
        self.assertEqual(
            (403, 'console token refused: the token is unknown, or was '
                  'used already'), self.refused(token))

    def test_wrong_and_missing_tokens(self):
        self.token()
        self.assertEqual(403, self.refused('wrong')[0])
        error = self.assertRaises(
            websockets.exceptions.InvalidStatus, client.connect,
            self.base_url, open_timeout=10)
        self.assertEqual(403, error.response.status_code)
        self.assertIn(b'no token', error.response.body)

    def test_expired_token(self):
        clock = [1000.0]
        self.store.clock = lambda: clock[0]
        token = self.token(ttl=1)
        clock[0] += 2
        self.assertEqual(
            (403, 'console token refused: the token has expired'),
            self.refused(token))

    def test_busy_port_is_refused_and_the_token_kept(self):
        first = self.token()
        second = self.token()
        other_port = self.token(port=1)
        with self.connect(first) as ws:
            ws.send(b'x')
            ws.recv(timeout=10)
            status, body = self.refused(second)
            self.assertEqual(409, status)
            self.assertTrue(body.startswith(
                'busy: serial port 0 of instance %s already has a '
                'console attached' % UUID), body)
            # Another port of the same guest is not busy.
            with self.connect(other_port) as ws1:
                ws1.send(b'y')
                self.assertEqual(b'Y', ws1.recv(timeout=10))
        # The refused token still works once the port is free.
        with self.connect(second) as ws:
            ws.send(b'z')
            self.assertEqual(b'Z', ws.recv(timeout=10))

    def test_the_port_closing_ends_the_session(self):
        with self.connect(self.token()) as ws:
            ws.send(b'q')
            ws.recv(timeout=10)
            self._close_echo()
            error = self.assertRaises(
                websockets.exceptions.ConnectionClosedOK, ws.recv,
                timeout=10)
            self.assertEqual(1000, error.rcvd.code)
            self.assertEqual('serial port closed', error.rcvd.reason)

    def test_unreachable_port(self):
        target = console.ConsoleTarget(
            kind='unix', path=os.path.join(self.dir, 'gone.sock'))
        with self.connect(self.token(target=target)) as ws:
            error = self.assertRaises(
                websockets.exceptions.ConnectionClosedError, ws.recv,
                timeout=10)
        self.assertEqual(1011, error.rcvd.code)
        self.assertIn('cannot reach serial port 0', error.rcvd.reason)
        # Freed once the handler has ended, which the client need not see.
        lh_poll(lambda: not self.proxy.sessions())

    def test_pty_port(self):
        # The guest's side of a pty chardev is the master QEMU holds.
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        tty.setraw(master)
        path = os.ttyname(slave)
        os.close(slave)
        target = console.ConsoleTarget(kind='pty', path=path)
        with self.connect(self.token(target=target)) as ws:
            os.write(master, b'from the guest')
            received = b''
            while len(received) < 14:
                received += ws.recv(timeout=10)
            self.assertEqual(b'from the guest', received)
            ws.send(b'typed')
            got = b''
            while len(got) < 5:
                got += os.read(master, 100)
            self.assertEqual(b'typed', got)
