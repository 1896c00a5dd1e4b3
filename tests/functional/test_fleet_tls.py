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
which shows that the same connection with nothing wrong logs in.
"""

import json
import os
import secrets
import ssl
import subprocess

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

    def test_computeagent_ctl_with_a_certificate_of_its_own(self):
        agent = self.tls_agent()
        config = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'controller.conf')
        lines = ['[DEFAULT]',
                 'transport_url = %s' % self.url,
                 'host = %s' % agent.host,
                 'control_exchange = %s' % agent.exchange,
                 '[oslo_messaging_rabbit]']
        lines += ['%s = %s' % item for item in
                  rabbit_options(self.ca, self.controller_cert).items()]
        with open(config, 'w') as f:
            f.write('\n'.join(lines) + '\n')

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
