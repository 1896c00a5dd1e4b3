"""The interactive serial console end to end, on a real guest.

The guest is a boot sector that echoes every byte it receives on COM1
(tests/images.py, make_echo_sector), on a ``unix`` serial port with
``log: true``. The console proxy runs as its console script beside the
agent (tests/functional/console_proxy.py); clients are websockets' own
client and ``computeagent-ctl console --attach`` under a pty.
"""

import json
import os
import subprocess
import termios
import time

import fixtures
import oslo_messaging
import testtools
from testtools import content
import websockets.exceptions
from websockets.sync import client

from tests.functional import console_proxy
from tests.functional import fixtures as ft_fixtures
from tests.functional import libvirt_helpers as lh
from tests import images

ESCAPE = b'\x1d'


class ConsoleTestCase(lh.LibvirtTestCase):
    """An agent with its console proxy; ``token_ttl`` as the class says."""

    token_ttl = 600

    def setUp(self):
        self.extra_options = console_proxy.console_options(
            lh.free_port(), token_ttl=self.token_ttl)
        super().setUp()
        self.proxy = self.useFixture(
            console_proxy.ConsoleProxyFixture(self.agent))
        self.addOnException(self._attach_proxy_log)

    def _attach_proxy_log(self, exc_info):
        self.addDetailUniqueName('console-proxy.log', content.text_content(
            self.proxy.log_tail(200)))

    def boot_echo_guest(self, kind='unix'):
        """A running echo guest, port 0 of ``kind``; :returns: its uuid."""
        marker = lh.new_marker('ECHO')
        images.write_echo_image(self.image_path('echo.img'), marker)
        spec = self.spec([{'source': {'image': self.image_ref('echo.img')},
                           'boot_index': 1}],
                         serial_ports=[{'type': kind, 'log': True}])
        self.create(spec)
        # Port 0 logs: get_console_output reads what virtlogd records.
        lh.wait_for_console(self.agent, spec['uuid'], marker)
        return spec['uuid']

    def grant(self, uuid, port=0):
        return self.agent.call('get_serial_console', uuid=uuid, port=port)

    def connect(self, url):
        return client.connect(url, open_timeout=30, close_timeout=10)

    def refused(self, url):
        """:returns: (HTTP status, body) of a refused handshake"""
        error = self.assertRaises(websockets.exceptions.InvalidStatus,
                                  self.connect, url)
        return (error.response.status_code,
                error.response.body.decode().strip())

    def receive_until(self, ws, expected, timeout=60):
        """Bytes from ``ws`` until ``expected`` was among them."""
        received = b''
        deadline = time.monotonic() + timeout
        while expected not in received:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('%r not received within %d s; got %r'
                                     % (expected, timeout, received))
            try:
                received += ws.recv(timeout=left)
            except TimeoutError:
                continue
        return received

    def wait_in_log(self, uuid, text):
        return lh.poll(lambda: text in self.read_console_file(uuid), 60,
                       '%r in console.log' % text)


class TestSerialConsole(ConsoleTestCase):

    def test_typed_characters_come_back_and_are_logged(self):
        uuid = self.boot_echo_guest()
        answer = self.grant(uuid)
        self.assertEqual((0, 'unix'), (answer['port'], answer['type']))
        self.assertEqual('ws://127.0.0.1:%d/?token=%s'
                         % (self.proxy.port, answer['token']),
                         answer['url'])
        typed = lh.new_marker('typed')
        with self.connect(answer['url']) as ws:
            ws.send(typed)
            self.receive_until(ws, typed)
        # The guest's echo is what virtlogd records: typing lands in the
        # port's log as the guest prints it.
        self.wait_in_log(uuid, typed)

    def test_a_pty_port(self):
        # The pty is QEMU's, named only in the live domain XML.
        uuid = self.boot_echo_guest('pty')
        answer = self.grant(uuid)
        self.assertEqual('pty', answer['type'])
        typed = lh.new_marker('pty')
        with self.connect(answer['url']) as ws:
            ws.send(typed)
            self.receive_until(ws, typed)
        self.wait_in_log(uuid, typed)

    def test_wrong_and_reused_tokens_are_refused(self):
        uuid = self.boot_echo_guest()
        answer = self.grant(uuid)
        base = answer['url'].split('?')[0]
        self.assertEqual(403, self.refused(base + '?token=wrong')[0])
        self.assertEqual(403, self.refused(base)[0])
        with self.connect(answer['url']) as ws:
            ws.send(b'x')
            self.receive_until(ws, b'x')
        self.assertEqual(
            (403, 'console token refused: the token is unknown, or was '
                  'used already'), self.refused(answer['url']))

    def test_a_second_client_on_a_busy_port(self):
        uuid = self.boot_echo_guest()
        first = self.grant(uuid)
        second = self.grant(uuid)
        with self.connect(first['url']) as ws:
            ws.send(b'1')
            self.receive_until(ws, b'1')
            status, body = self.refused(second['url'])
            self.assertEqual(409, status)
            self.assertIn('busy: serial port 0 of instance %s already has '
                          'a console attached' % uuid, body)
        # Not used up: it joins once the first client has left.
        second_typed = lh.new_marker('second')

        def joined():
            try:
                return self.connect(second['url'])
            except websockets.exceptions.InvalidStatus as e:
                # The proxy may not have seen the first one go yet.
                if e.response.status_code != 409:
                    raise
                return None
        with lh.poll(joined, 30, 'the second client joined') as ws:
            ws.send(second_typed)
            self.receive_until(ws, second_typed)

    def test_the_guest_stopping_ends_the_session(self):
        uuid = self.boot_echo_guest()
        with self.connect(self.grant(uuid)['url']) as ws:
            ws.send(b'y')
            self.receive_until(ws, b'y')
            self.stop(uuid)
            error = self.assertRaises(
                websockets.exceptions.ConnectionClosedOK,
                self.receive_until, ws, b'never')
        self.assertEqual((1000, 'serial port closed'),
                         (error.rcvd.code, error.rcvd.reason))
        self.assertRemoteError('InvalidState', self.grant, uuid)

    def test_ports_that_cannot_be_joined(self):
        marker = lh.new_marker('FILE')
        spec = self.spec([{'source': {'image': self.raw_image(
            'boot.img', marker)}, 'boot_index': 1}])
        self.create(spec)
        error = self.assertRaises(oslo_messaging.RemoteError, self.grant,
                                  spec['uuid'])
        self.assertEqual('InvalidSpec', error.exc_type)
        self.assertIn('serial port 0 is of type file', error.value)
        error = self.assertRaises(oslo_messaging.RemoteError, self.grant,
                                  spec['uuid'], 1)
        self.assertIn('has no serial port 1', error.value)

    def test_ctl_attach_in_a_terminal(self):
        uuid = self.boot_echo_guest()
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        # Whatever comes back must be the guest's: the terminal itself
        # echoes nothing, even before ctl makes it raw.
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        before = termios.tcgetattr(slave)
        process = subprocess.Popen(
            [ft_fixtures.console_script('computeagent-ctl'),
             '--config-file', self.agent.config_file,
             'console', uuid, '--attach'],
            stdin=slave, stdout=slave, stderr=subprocess.PIPE)
        self.addCleanup(self._end, process)
        banner = process.stderr.readline().decode()
        self.assertIn('Connected to serial port 0 (unix) of %s; leave '
                      'with Ctrl-] (^]).' % uuid, banner)
        self.assertNotEqual(before, termios.tcgetattr(slave))
        typed = lh.new_marker('attached')
        os.write(master, typed)
        received = b''
        deadline = time.monotonic() + 60
        while typed not in received and time.monotonic() < deadline:
            received += os.read(master, 1024)
        self.assertIn(typed, received)
        os.write(master, ESCAPE)
        self.assertEqual(0, process.wait(60))
        self.assertIn('Left the console of %s.' % uuid,
                      process.stderr.read().decode())
        self.assertEqual(before, termios.tcgetattr(slave))
        self.wait_in_log(uuid, typed)

    def test_ctl_url(self):
        uuid = self.boot_echo_guest()
        out = self.agent.ctl('--format', 'json', 'console', uuid,
                             '--url').stdout
        answer = json.loads(out)
        self.assertEqual(['expires_at', 'port', 'token', 'type', 'url'],
                         sorted(answer))
        with self.connect(answer['url']) as ws:
            ws.send(b'u')
            self.receive_until(ws, b'u')

    @staticmethod
    def _end(process):
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stderr.close()


class TestExpiredToken(ConsoleTestCase):

    token_ttl = 2

    def test_an_expired_token_is_refused(self):
        uuid = self.boot_echo_guest()
        answer = self.grant(uuid)
        expires = time.mktime(time.strptime(
            answer['expires_at'], '%Y-%m-%dT%H:%M:%SZ')) - time.timezone
        lh.poll(lambda: time.time() > expires + 1, 30, 'the token expired')
        self.assertEqual(
            (403, 'console token refused: the token has expired'),
            self.refused(answer['url']))


class TestEchoCode(testtools.TestCase):

    def test_code_is_what_nasm_assembles(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        src = os.path.join(tmp, 'echo.asm')
        out = os.path.join(tmp, 'echo.bin')
        with open(src, 'w') as f:
            f.write(images.ECHO_ASM + "db 'M', 13, 10, 0\n")
        subprocess.run(['nasm', '-f', 'bin', '-o', out, src], check=True)
        with open(out, 'rb') as f:
            code = f.read()
        self.assertEqual(code, images.make_echo_sector(b'M')[:len(code)])
