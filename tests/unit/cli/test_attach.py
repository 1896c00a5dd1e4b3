"""console --attach's terminal side: raw mode, copying, the escape key.

The terminal is a pty this test holds both ends of; the console proxy
runs in this process (tests/unit/console/test_proxy.py's set-up) before
a unix echo server that answers in upper case.
"""

import os
import termios
import threading

from computeagent.cli import attach
from computeagent.cmd import consoleproxy
from tests.unit.console import test_proxy
from tests.unit import tlscerts


class TestRawTerminal(test_proxy.base.TestCase):

    def setUp(self):
        super().setUp()
        self.master, self.slave = os.openpty()
        self.addCleanup(os.close, self.master)
        self.addCleanup(os.close, self.slave)

    def test_raw_inside_restored_after_even_on_errors(self):
        before = termios.tcgetattr(self.slave)

        def fail():
            with attach.raw_terminal(self.slave):
                raw = termios.tcgetattr(self.slave)
                self.assertFalse(raw[3] & (termios.ICANON | termios.ECHO |
                                           termios.ISIG))
                raise RuntimeError('boom')
        self.assertRaises(RuntimeError, fail)
        self.assertEqual(before, termios.tcgetattr(self.slave))

    def test_not_a_terminal_is_left_alone(self):
        read, write = os.pipe()
        self.addCleanup(os.close, read)
        self.addCleanup(os.close, write)
        with attach.raw_terminal(read):
            pass


class TestAttach(test_proxy.ProxyTestCase):

    def setUp(self):
        super().setUp()
        self.master, self.slave = os.openpty()
        self.addCleanup(os.close, self.master)
        self.addCleanup(os.close, self.slave)
        attrs = termios.tcgetattr(self.slave)
        # Nothing but the guest echoes what is typed.
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
        self.before = termios.tcgetattr(self.slave)

    def start(self, url):
        result = {}

        def run():
            try:
                result['why'] = attach.attach(url, self.slave, self.slave)
            except Exception as e:
                result['error'] = e
        thread = threading.Thread(target=run)
        thread.start()
        self.addCleanup(thread.join, 10)
        return thread, result

    def read_until(self, expected):
        received = b''
        while expected not in received:
            received += os.read(self.master, 100)
        return received

    def test_typing_comes_back_and_ctrl_close_bracket_leaves(self):
        thread, result = self.start(self.base_url + '?token=' + self.token())
        # Raw mode is set once the session is open: wait for it.
        test_proxy.lh_poll(
            lambda: termios.tcgetattr(self.slave) != self.before)
        os.write(self.master, b'hello\r')
        self.read_until(b'HELLO\r')
        os.write(self.master, b'bye' + attach.ESCAPE + b'ignored')
        thread.join(10)
        self.assertFalse(thread.is_alive())
        self.assertEqual({'why': None}, result)
        self.assertEqual(self.before, termios.tcgetattr(self.slave))
        # What was typed before the escape went to the guest; nothing
        # after it did.
        test_proxy.lh_poll(lambda: self.received.endswith(b'bye'))
        test_proxy.lh_poll(lambda: not self.proxy.sessions())
        self.assertEqual(b'hello\rbye', bytes(self.received))

    def test_the_session_ended_by_the_proxy(self):
        thread, result = self.start(self.base_url + '?token=' + self.token())
        test_proxy.lh_poll(lambda: self.echoes)
        self._close_echo()
        thread.join(10)
        self.assertEqual(
            'the console proxy ended the session (1000, serial port '
            'closed)', result['why'])
        self.assertEqual(self.before, termios.tcgetattr(self.slave))

    def test_refused(self):
        thread, result = self.start(self.base_url + '?token=nope')
        thread.join(10)
        self.assertIsInstance(result['error'], attach.AttachError)
        self.assertEqual(
            'the console proxy refused: 403 console token refused: the '
            'token is unknown, or was used already', str(result['error']))
        self.assertEqual(self.before, termios.tcgetattr(self.slave))


class TestTLS(test_proxy.ProxyTestCase):
    """A proxy serving wss:// only (computeagent-console-proxy's context)."""

    def _serve(self):
        ca = tlscerts.CA(self.dir)
        cert, key = ca.issue('localhost', hosts=('localhost', '127.0.0.1'))
        self.flags(proxy_cert_file=cert, proxy_key_file=key,
                   group='console')
        context = consoleproxy._ssl_context(self.conf)
        self._close_server()
        self.server = self.events.run(self.proxy.serve('127.0.0.1', 0,
                                                       ssl=context))
        port = self.server.sockets[0].getsockname()[1]
        return ca, 'wss://127.0.0.1:%d/' % port

    def test_wss_with_the_ca(self):
        ca, base_url = self._serve()
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        done = {}

        def run():
            done['why'] = attach.attach(base_url + '?token=' + self.token(),
                                        slave, slave, ca_file=ca.cert)
        before = termios.tcgetattr(slave)
        thread = threading.Thread(target=run)
        thread.start()
        self.addCleanup(thread.join, 10)
        # Typed before raw mode, it would be flushed by it.
        test_proxy.lh_poll(lambda: termios.tcgetattr(slave) != before)
        os.write(master, b'tls')
        received = b''
        while b'TLS' not in received:
            received += os.read(master, 100)
        os.write(master, attach.ESCAPE)
        thread.join(10)
        self.assertEqual({'why': None}, done)

    def stdin(self):
        read, write = os.pipe()
        self.addCleanup(os.close, read)
        self.addCleanup(os.close, write)
        return read

    def test_a_client_without_the_ca_cannot_attach(self):
        _ca, base_url = self._serve()
        error = self.assertRaises(
            attach.AttachError, attach.attach,
            base_url + '?token=' + self.token(), self.stdin(), 1)
        self.assertIn('cannot reach the console proxy at %s' % base_url,
                      str(error))
        self.assertIn('CERTIFICATE_VERIFY_FAILED', str(error))

    def test_plain_ws_is_not_served(self):
        _ca, base_url = self._serve()
        error = self.assertRaises(
            attach.AttachError, attach.attach,
            base_url.replace('wss:', 'ws:') + '?token=' + self.token(),
            self.stdin(), 1)
        self.assertIn('cannot reach the console proxy', str(error))

    def test_a_certificate_without_its_key_is_a_usage_error(self):
        self.flags(proxy_cert_file='/x/cert.pem', group='console')
        self.assertRaises(ValueError, consoleproxy._ssl_context, self.conf)
