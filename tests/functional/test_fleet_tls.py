"""An agent on a broker that takes TLS with certificate login only.

A fleet's broker (the project's issue "A fleet of compute nodes ... TLS
with certificate login") is reached over TLS alone, and each client is
logged in as its certificate's common name (RabbitMQ's EXTERNAL
mechanism): no password to steal or to share between hosts. Here the
broker is a private TLS-only RabbitMQ node
(tests/functional/private_rabbitmq.py) with certificates of a throwaway
CA (tests/functional/tls_ca.py). One node, with its users, serves the
whole class (in each test process that runs some of it): a node start
took 7 to 12 s here and each rabbitmqctl about a second.

The refusals are tried with py-amqp alone, each with one thing wrong
and everything else as in ``test_a_certificate_of_the_ca_logs_in``,
which shows that the same connection with nothing wrong logs in. Then
the agent and computeagent-ctl meet them: a certificate problem is one
line and exit status 1 within seconds, where oslo.messaging alone would
retry for ever (computeagent.api.tlscheck), while a broker out of reach
is waited for.
"""

import json
import os
import secrets
import ssl
import subprocess
import time

import amqp
import fixtures

from tests.functional import base
from tests.functional import fixtures as ft_fixtures
from tests.functional import private_rabbitmq
from tests.functional import tls_ca

VHOST = 'computeagent-tls'
#: the agent's user, named by its certificate
AGENT = 'ft-agent'
#: a controller's user, named by a certificate of its own
CONTROLLER = 'ft-controller'
#: a user with a password and no permission on VHOST: what clients
#: claim to be, in vain
OTHER = 'ft-other'
OTHER_PASSWORD = secrets.token_hex(16)


def rabbit_options(ca, issued):
    """``[oslo_messaging_rabbit]`` of a client with that certificate."""
    return {'ssl': True,
            'ssl_ca_file': ca.cert,
            'ssl_cert_file': issued.cert,
            'ssl_key_file': issued.key,
            'rabbit_login_method': 'EXTERNAL'}


class TestFleetTLS(base.FunctionalTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ca = cls._class_fixture(tls_ca.CertificateAuthority())
        cls.other_ca = cls._class_fixture(
            tls_ca.CertificateAuthority('another test CA'))
        cls.broker = cls._class_fixture(
            private_rabbitmq.PrivateRabbitMQ(tls=cls.ca))
        ctl = cls.broker.ctl
        ctl('add_vhost', VHOST)
        for user in (AGENT, CONTROLLER):
            # A user needs a password to be made; cleared, none is right
            # even if a password mechanism were offered.
            ctl('add_user', user, secrets.token_hex(16))
            ctl('clear_password', user)
            ctl('set_permissions', '-p', VHOST, user, '.*', '.*', '.*')
        ctl('add_user', OTHER, OTHER_PASSWORD)
        cls.agent_cert = cls.ca.issue(AGENT)
        cls.controller_cert = cls.ca.issue(CONTROLLER)
        # The URL a client is given names a user, with the right
        # password: the broker must not care.
        cls.url = 'rabbit://%s:%s@127.0.0.1:%d/%s' % (
            OTHER, OTHER_PASSWORD, cls.broker.port, VHOST)
        # What docs/operations.md has operators write: no user at all.
        cls.bare_url = 'rabbit://127.0.0.1:%d/%s' % (cls.broker.port, VHOST)

    @classmethod
    def _class_fixture(cls, fixture):
        fixture.setUp()
        cls.addClassCleanup(fixture.cleanUp)
        return fixture

    def connect(self, cert=None, tls=True, **kwargs):
        """A py-amqp connection to VHOST, logged in once this returns.

        :param cert: the client's certificate (tls_ca.Issued); none
            without
        :param tls: False: plain AMQP, to the TLS port all the same
        :param kwargs: amqp.Connection's; the login method is EXTERNAL
            unless given
        """
        options = {'ca_certs': self.ca.cert,
                   'cert_reqs': ssl.CERT_REQUIRED,
                   'server_hostname': '127.0.0.1'}
        if cert is not None:
            options.update(certfile=cert.cert, keyfile=cert.key)
        kwargs.setdefault('login_method', 'EXTERNAL')
        conn = amqp.Connection(host='127.0.0.1:%d' % self.broker.port,
                               virtual_host=VHOST,
                               ssl=options if tls else False,
                               connect_timeout=10, **kwargs)
        self.addCleanup(conn.collect)
        conn.connect()
        return conn

    def connections(self):
        """The broker's client connections, as rabbitmqctl lists them.

        Each with its ``name``: the ``connection_name`` the client gave
        (oslo.messaging's is ``program:pid:uuid``), or ''.
        """
        found = json.loads(self.broker.ctl(
            'list_connections', '--formatter', 'json', 'peer_port',
            'user', 'vhost', 'ssl', 'auth_mechanism', 'client_properties'))
        for conn in found:
            # A table is a list of [key, type, value].
            conn['name'] = ''.join(value for key, _type, value
                                   in conn.pop('client_properties')
                                   if key == 'connection_name')
        return found

    def connection_of(self, conn):
        """The broker's view of a py-amqp connection of this test."""
        port = conn.transport.sock.getsockname()[1]
        found = [c for c in self.connections() if c['peer_port'] == port]
        self.assertEqual(1, len(found), found)
        return found[0]

    def tls_agent(self):
        """An agent of the fake driver, on the broker with its certificate.

        The test's own client and listener use the same certificate.
        """
        return self.useFixture(ft_fixtures.AgentFixture(
            'fake', transport_url=self.url,
            rabbit_options=rabbit_options(self.ca, self.agent_cert)))

    def test_a_certificate_of_the_ca_logs_in(self):
        conn = self.connect(self.agent_cert)
        # No password mechanism is even offered.
        self.assertEqual([b'EXTERNAL'], conn.mechanisms)
        # The user may declare in its vhost.
        conn.channel().queue_declare(exclusive=True)
        seen = self.connection_of(conn)
        self.assertEqual((AGENT, VHOST, True, 'EXTERNAL'),
                         (seen['user'], seen['vhost'], seen['ssl'],
                          seen['auth_mechanism']))

    def test_the_user_is_the_cn_whatever_the_client_claims(self):
        # OTHER's own login would be refused: VHOST is not OTHER's.
        conn = self.connect(self.controller_cert, userid=OTHER,
                            password=OTHER_PASSWORD)
        conn.channel().queue_declare(exclusive=True)
        self.assertEqual(CONTROLLER, self.connection_of(conn)['user'])

    def assertTLSRefused(self, alert, *args, **kwargs):
        """The broker ends the TLS connection at the client's certificate.

        With TLS 1.3 the client's handshake is over before the broker
        checks its certificate; the broker then sends that alert and
        closes, while the client sends the AMQP header. Its read gets
        the alert or the end of the connection first (SSLEOFError, no
        alert to check): here 96 times in 200 without a certificate,
        24 in 200 with another CA's.
        """
        error = self.assertRaises(ssl.SSLError, self.connect, *args,
                                  **kwargs)
        if not isinstance(error, ssl.SSLEOFError):
            self.assertEqual(alert, error.reason)

    def test_no_certificate_is_refused(self):
        self.assertTLSRefused('TLSV13_ALERT_CERTIFICATE_REQUIRED')

    def test_a_certificate_of_another_ca_is_refused(self):
        # A real user's name, in a certificate the broker cannot trust.
        stranger = self.other_ca.issue(AGENT)
        self.assertTLSRefused('TLSV1_ALERT_UNKNOWN_CA', stranger)

    def test_plain_amqp_on_the_tls_port_is_refused(self):
        # The broker resets the connection at the AMQP header, which is
        # no TLS (200 times in 200 here); had it answered in AMQP, this
        # would be an amqp.exceptions error, or no error.
        self.assertRaises(ConnectionResetError, self.connect, tls=False)

    def test_a_certificate_whose_cn_is_no_user_is_refused(self):
        nobody = self.ca.issue('ft-nobody')
        self.assertRaises(amqp.exceptions.AccessRefused, self.connect,
                          nobody)

    def test_agent_answers_and_notifies_over_tls(self):
        agent = self.tls_agent()
        status = agent.call('get_host_status')
        self.assertEqual((agent.host, 'fake'),
                         (status['host'], status['driver']))
        uuid = self.new_uuid()
        record = agent.call('create_instance', spec={
            'uuid': uuid, 'name': 'tls-1',
            'disks': [{'source': {'image': 'demo.img'}, 'boot_index': 1}]})
        self.assertEqual('running', record['state'])
        agent.notifications.wait_for(
            'instance.create.end',
            predicate=lambda n: n['payload']['uuid'] == uuid)
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         agent.call('delete_instance', uuid=uuid))
        agent.notifications.wait_for(
            'instance.delete.end',
            predicate=lambda n: n['payload']['uuid'] == uuid)
        # Every connection of the agent and of this test's oslo.messaging
        # (named program:pid:uuid) is TLS, logged in by certificate as
        # the CN, not as the URL's user.
        names = {'computeagent:%d:' % agent.process.pid: 'the agent',
                 ':%d:' % os.getpid(): 'the test'}
        found = {}
        for conn in self.connections():
            for prefix, whose in names.items():
                if prefix in conn['name']:
                    found.setdefault(whose, []).append(
                        (conn['user'], conn['ssl'],
                         conn['auth_mechanism']))
        self.assertEqual(set(names.values()), set(found), found)
        for whose, logins in found.items():
            self.assertEqual({(AGENT, True, 'EXTERNAL')}, set(logins),
                             whose)

    def controller_config(self, host, exchange, cert=None, ca=None):
        """A computeagent-ctl configuration file with a certificate.

        :param cert: the controller's certificate; default its own
        :param ca: the CA it trusts; default the broker's
        """
        config = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'controller.conf')
        lines = ['[DEFAULT]',
                 'transport_url = %s' % self.bare_url,
                 'host = %s' % host,
                 'control_exchange = %s' % exchange,
                 '[oslo_messaging_rabbit]']
        lines += ['%s = %s' % item for item in rabbit_options(
            ca or self.ca, cert or self.controller_cert).items()]
        with open(config, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        return config

    def test_computeagent_ctl_with_a_certificate_of_its_own(self):
        agent = self.tls_agent()
        config = self.controller_config(agent.host, agent.exchange)

        def ctl(*args):
            result = subprocess.run(
                [ft_fixtures.console_script('computeagent-ctl'),
                 '--config-file', config, '--format', 'json'] + list(args),
                capture_output=True, text=True, timeout=120)
            self.assertEqual(0, result.returncode, result.stderr)
            return json.loads(result.stdout)

        self.assertEqual(agent.host, ctl('host-status')['host'])
        uuid = self.new_uuid()
        record = ctl('boot', '--uuid', uuid,
                     '--disk', 'image=demo.img,boot_index=1', '--wait')
        self.assertEqual((uuid, 'running'),
                         (record['uuid'], record['state']))
        self.assertEqual(uuid, agent.call('get_instance',
                                          uuid=uuid)['uuid'])

    def failed_start(self, cert=None, ca=None):
        """Start an agent whose certificate or trust is another CA's.

        The test's own client and listener keep the agent's good
        certificate.

        :returns: (the one line on stderr, stdout, seconds it took)
        """
        agent = self.useFixture(ft_fixtures.AgentFixture(
            'fake', transport_url=self.url, start=False,
            rabbit_options=rabbit_options(self.ca, self.agent_cert)))
        with open(agent.config_file, 'a') as f:
            # A later value of the same option wins in oslo.config.
            f.write('[oslo_messaging_rabbit]\n')
            if cert is not None:
                f.write('ssl_cert_file = %s\nssl_key_file = %s\n'
                        % (cert.cert, cert.key))
            if ca is not None:
                f.write('ssl_ca_file = %s\n' % ca.cert)
        started = time.monotonic()
        result = subprocess.run(
            [ft_fixtures.console_script('computeagent'), '--config-file',
             agent.config_file], capture_output=True, text=True,
            timeout=120)
        took = time.monotonic() - started
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertNotIn('Traceback', result.stdout + result.stderr)
        self.assertEqual(1, len(result.stderr.splitlines()), result.stderr)
        # Logged too (without log_file, the log is stdout), and not
        # retried.
        self.assertIn('Cannot start: ', result.stdout)
        self.assertNotIn('Connection failed', result.stdout)
        return result.stderr.strip(), result.stdout, took

    def test_an_agent_whose_certificate_the_broker_refuses_exits(self):
        stranger = self.other_ca.issue(AGENT)
        error, _out, took = self.failed_start(cert=stranger)
        self.assertEqual(
            'computeagent: error: the message broker at 127.0.0.1:%d '
            'refused the certificate %s: TLSV1_ALERT_UNKNOWN_CA (it trusts '
            'no CA that issued the certificate)'
            % (self.broker.port, stranger.cert), error)
        # The agent's own start (interpreter, imports, configuration)
        # is most of it.
        self.assertLess(took, 30)

    def test_an_agent_that_cannot_trust_the_broker_exits(self):
        # The broker sends its CA's certificate with its own: a stranger
        # to the agent's CA file.
        error, _out, took = self.failed_start(ca=self.other_ca)
        self.assertEqual(
            'computeagent: error: the TLS certificate of the message broker '
            'at 127.0.0.1:%d is not trusted: self-signed certificate in '
            'certificate chain ([oslo_messaging_rabbit] ssl_ca_file %s must '
            'be the CA of that certificate, whose subjectAltName must name '
            "the transport URL's host)" % (self.broker.port,
                                           self.other_ca.cert),
            error)
        self.assertLess(took, 30)

    def test_an_agent_whose_certificate_names_no_user_exits(self):
        # TLS is fine; the login is refused (AMQP 403), as with a wrong
        # password.
        nobody = self.ca.issue('ft-nobody')
        error, _out, took = self.failed_start(cert=nobody)
        self.assertEqual(
            'computeagent: error: the message broker (127.0.0.1:%d, '
            'certificate login) refused the certificate login to vhost %s: '
            "the common name 'ft-nobody' of the certificate %s is not a "
            'user of the broker' % (self.broker.port, VHOST, nobody.cert),
            error)
        self.assertLess(took, 30)

    def test_an_agent_waits_for_a_tls_broker_out_of_reach(self):
        # Nothing listens on the agent's port: it retries, as without
        # TLS, until stopped. The test's client uses the real broker.
        port = private_rabbitmq._free_port()
        agent = self.useFixture(ft_fixtures.AgentFixture(
            'fake', transport_url='rabbit://127.0.0.1:%d/%s' % (port, VHOST),
            client_url=self.url, start=False,
            rabbit_options=rabbit_options(self.ca, self.agent_cert)))
        agent.start(wait=False)
        deadline = time.monotonic() + 60
        while agent.log_text().count('Connection failed') < 2:
            self.assertIsNone(agent.process.poll(), agent.log_tail())
            self.assertLess(time.monotonic(), deadline, agent.log_tail())
            time.sleep(0.2)
        self.assertIsNone(agent.process.poll(), agent.log_tail())
        self.assertIn('Connection refused', agent.log_text())

    def test_computeagent_ctl_with_a_certificate_of_another_ca(self):
        # No agent is needed: the broker turns the controller away.
        stranger = self.other_ca.issue(CONTROLLER)
        config = self.controller_config('ft-nowhere', 'ft-nowhere',
                                        cert=stranger)
        started = time.monotonic()
        result = subprocess.run(
            [ft_fixtures.console_script('computeagent-ctl'),
             '--config-file', config, 'host-status'],
            capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
        self.assertEqual(
            (1, 'computeagent-ctl: error: the message broker at '
                '127.0.0.1:%d refused the certificate %s: '
                'TLSV1_ALERT_UNKNOWN_CA (it trusts no CA that issued the '
                'certificate)' % (self.broker.port, stranger.cert)),
            (result.returncode, result.stderr.strip()))
        # Well within its 30 s deadline, which an unreachable broker
        # would use up.
        self.assertLess(took, 15)
