"""The TLS look at the broker: a certificate problem, or an outage?

The broker here is a TLS server of Python's own on 127.0.0.1, on a
thread, with certificates of throwaway CAs (tests/unit/tlscerts.py); a
real RabbitMQ with certificate login is
tests/functional/test_fleet_tls.py.
"""

import os
import socket
import ssl
import threading

import fixtures
from oslo_messaging import conffixture

from computeagent.api import tlscheck
from tests import base
from tests.unit import tlscerts

HEADER = b'AMQP\x00\x00\x09\x01'
# The first bytes of a Connection.Start frame.
START = b'\x01\x00\x00\x00\x00\x01\xf1'


class Broker(threading.Thread):
    """A TLS server that answers the AMQP header as RabbitMQ starts to.

    :param server: (certificate, key) of the server
    :param client_ca: the CA file whose client certificates it takes;
        None: it asks for none
    :param tls: False: plain TCP, answering the header (as a plain
        AMQP listener answers a TLS client hello)
    :param hang_up: close every connection at once, before any TLS
    """

    def __init__(self, server=None, client_ca=None, tls=True,
                 hang_up=False):
        super().__init__(daemon=True)
        self.listener = socket.create_server(('127.0.0.1', 0))
        # accept() is not woken by a close on another thread.
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        self.tls = tls
        self.hang_up = hang_up
        self.accepted = 0
        if tls:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(*server)
            if client_ca:
                self.context.load_verify_locations(client_ca)
                self.context.verify_mode = ssl.CERT_REQUIRED

    def run(self):
        while not self.stopped.is_set():
            try:
                conn, _addr = self.listener.accept()
            except socket.timeout:
                continue
            self.accepted += 1
            try:
                self._serve(conn)
            except OSError:
                pass  # what the client did wrong is the test's
            finally:
                conn.close()

    def _serve(self, conn):
        conn.settimeout(5)
        if self.hang_up:
            return
        if not self.tls:
            # The whole client hello, then the header and an orderly
            # end: unread bytes would make the close a reset.
            conn.recv(4096)
            conn.sendall(HEADER)
            conn.shutdown(socket.SHUT_WR)
            while conn.recv(4096):
                pass
            return
        with self.context.wrap_socket(conn, server_side=True) as tls:
            if tls.recv(8) == HEADER:
                tls.sendall(START)

    def stop(self):
        self.stopped.set()
        self.join(5)
        self.listener.close()


class TestCheck(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(conffixture.ConfFixture(self.conf))
        self.ca = tlscerts.CA(self.tmp)
        self.client = self.ca.issue('node1')
        self.use_options()

    def broker(self, **kwargs):
        kwargs.setdefault('server', self.ca.issue('broker', ['localhost',
                                                             '127.0.0.1']))
        kwargs.setdefault('client_ca', self.ca.cert)
        broker = Broker(**kwargs)
        broker.start()
        self.addCleanup(broker.stop)
        return broker

    def use_options(self, ca=None, client=None, **options):
        """The client's options: this CA and certificate unless given."""
        cert, key = client or self.client
        values = dict(ssl=True, ssl_ca_file=ca or self.ca.cert,
                      ssl_cert_file=cert, ssl_key_file=key,
                      rabbit_login_method='EXTERNAL')
        values.update(options)
        for name, value in values.items():
            self.flags(**{name: value, 'group': tlscheck.RABBIT})

    def check(self, *ports, host='127.0.0.1'):
        url = 'rabbit://%s/computeagent-node1' % ','.join(
            '%s:%d' % (host, port) for port in ports)
        tlscheck.check(self.conf, url, timeout=5)

    def refused(self, error_class, *ports, by=None, **kwargs):
        """:param by: the port refusing; default the first"""
        error = self.assertRaises(error_class, self.check, *ports, **kwargs)
        self.assertEqual('127.0.0.1:%d' % (by or ports[0]), error.address)
        return str(error)

    def test_a_certificate_the_broker_takes(self):
        broker = self.broker()
        self.check(broker.port)
        self.assertEqual(1, broker.accepted)

    def test_the_name_the_url_gives_is_checked(self):
        # localhost is 127.0.0.1 to kombu, and the name checked.
        self.check(self.broker().port, host='localhost')

    def test_nothing_without_ssl(self):
        broker = self.broker()
        self.flags(ssl=False, group=tlscheck.RABBIT)
        self.check(broker.port)
        self.assertEqual(0, broker.accepted)

    def test_nothing_for_another_transport(self):
        self.flags(transport_url='fake:/')
        tlscheck.check(self.conf)

    def test_a_broker_out_of_reach_is_no_error(self):
        broker = self.broker()
        broker.stop()
        self.check(broker.port)

    def test_a_connection_ended_before_tls_is_no_error(self):
        # A load balancer without a broker behind it, a broker starting.
        self.check(self.broker(hang_up=True).port)

    def test_a_broker_certificate_of_another_ca(self):
        other = tlscerts.CA(self.tmp, 'other CA')
        port = self.broker(server=other.issue('broker', ['127.0.0.1'])).port
        message = self.refused(tlscheck.BrokerCertificateUntrusted, port)
        self.assertEqual(
            'the TLS certificate of the message broker at 127.0.0.1:%d is '
            'not trusted: unable to get local issuer certificate '
            '([oslo_messaging_rabbit] ssl_ca_file %s must be the CA of '
            "that certificate, whose subjectAltName must name the "
            "transport URL's host)" % (port, self.ca.cert), message)

    def test_a_broker_certificate_for_another_name(self):
        port = self.broker(server=self.ca.issue('broker',
                                                ['broker1'])).port
        message = self.refused(tlscheck.BrokerCertificateUntrusted, port)
        self.assertIn("is not trusted: IP address mismatch, certificate is "
                      "not valid for '127.0.0.1' (", message)
        message = self.refused(tlscheck.BrokerCertificateUntrusted, port,
                               host='localhost')
        self.assertIn("is not trusted: Hostname mismatch, certificate is "
                      "not valid for 'localhost' (", message)

    def test_an_expired_broker_certificate(self):
        port = self.broker(server=self.ca.issue(
            'broker', ['127.0.0.1'], expired=True)).port
        self.assertIn('certificate has expired',
                      self.refused(tlscheck.BrokerCertificateUntrusted,
                                   port))

    def test_a_client_certificate_of_another_ca(self):
        port = self.broker().port
        stranger = tlscerts.CA(self.tmp, 'other CA').issue('node1')
        self.use_options(client=stranger)
        self.assertEqual(
            'the message broker at 127.0.0.1:%d refused the certificate '
            '%s: TLSV1_ALERT_UNKNOWN_CA (it trusts no CA that issued the '
            'certificate)' % (port, stranger[0]),
            self.refused(tlscheck.ClientCertificateRefused, port))

    def test_no_client_certificate(self):
        port = self.broker().port
        self.use_options(client=('', ''))
        message = self.refused(tlscheck.ClientCertificateRefused, port)
        self.assertIn('refused the connection, which has no certificate '
                      '([oslo_messaging_rabbit] ssl_cert_file is unset): ',
                      message)

    def test_the_alert_is_found_whoever_wins_the_race(self):
        # The TLS 1.3 race of the module's docstring, decided each way:
        # the first connection never sees the alert, the second does.
        port = self.broker().port
        stranger = tlscerts.CA(self.tmp, 'other CA').issue('node1')
        self.use_options(client=stranger)
        real = tlscheck._attempt
        calls = []

        def first_loses(*args):
            calls.append(args[-1])
            if len(calls) == 1:
                raise tlscheck._Ended('EOF', after_tls_13=True)
            return real(*args)
        self.useFixture(fixtures.MonkeyPatch(
            'computeagent.api.tlscheck._attempt', first_loses))
        self.refused(tlscheck.ClientCertificateRefused, port)
        self.assertEqual([False, True], calls)

    def test_a_plain_amqp_port(self):
        port = self.broker(tls=False).port
        message = self.refused(tlscheck.TLSFailure, port)
        self.assertTrue(message.startswith(
            'TLS with the message broker at 127.0.0.1:%d failed: ' % port),
            message)
        self.assertTrue(message.endswith('(is port %d its TLS port?)'
                                         % port), message)

    def test_one_host_taking_the_certificate_is_enough(self):
        other = tlscerts.CA(self.tmp, 'other CA')
        untrusted = self.broker(server=other.issue('b', ['127.0.0.1']))
        self.check(untrusted.port, self.broker().port)

    def test_the_first_refusal_is_told(self):
        other = tlscerts.CA(self.tmp, 'other CA')
        untrusted = self.broker(server=other.issue('b', ['127.0.0.1']))
        gone = self.broker()
        gone.stop()
        self.refused(tlscheck.BrokerCertificateUntrusted, gone.port,
                     untrusted.port, by=untrusted.port)

    def test_files_that_cannot_be_used(self):
        port = self.broker().port
        missing = os.path.join(self.tmp, 'missing.pem')
        self.use_options(client=(missing, self.client[1]))
        error = self.assertRaises(tlscheck.TLSConfigError, self.check, port)
        self.assertEqual('[oslo_messaging_rabbit] ssl_cert_file %s cannot '
                         'be read: No such file or directory' % missing,
                         str(error))
        self.use_options(client=(self.client[0], self.ca.cert))
        error = self.assertRaises(tlscheck.TLSConfigError, self.check, port)
        self.assertIn('are not a certificate and its private key',
                      str(error))
        self.use_options(ca=self.client[1])
        error = self.assertRaises(tlscheck.TLSConfigError, self.check, port)
        self.assertIn('holds no CA certificate', str(error))
