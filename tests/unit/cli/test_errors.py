"""The one line of a failure, with a password and with a certificate."""

from oslo_config import cfg
from oslo_messaging import conffixture

from computeagent.api import tlscheck
from computeagent.cli import errors
from tests import base
from tests.unit import tlscerts

URL = 'rabbit://node1:secret@broker1:5671/computeagent-node1'


class AMQPError(Exception):
    """As py-amqp's: the broker's reply code and text."""

    def __init__(self, code, text):
        super().__init__('(0, 0): (%d) %s' % (code, text))
        self.reply_code = code
        self.reply_text = text


ACCESS_REFUSED = AMQPError(403, 'ACCESS_REFUSED - Login was refused using '
                                'authentication mechanism EXTERNAL. For '
                                'details see the broker logfile.')
NOT_ALLOWED = AMQPError(530, "NOT_ALLOWED - access to vhost "
                             "'computeagent-node1' refused for user 'node1'")


class TestDescribe(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(conffixture.ConfFixture(self.conf,
                                                transport_url=URL))

    def certificate_login(self, common_name='node1'):
        """Certificate login; :returns: the certificate's path"""
        self.flags(rabbit_login_method='EXTERNAL', ssl=True,
                   group=tlscheck.RABBIT)
        if common_name is None:
            return None
        cert, key = tlscerts.CA(self.tmp).issue(common_name)
        self.flags(ssl_cert_file=cert, ssl_key_file=key,
                   group=tlscheck.RABBIT)
        return cert

    def test_a_refused_password_login(self):
        self.assertEqual(
            ('the message broker (broker1:5671, user node1) refused the '
             'login: check the user and password of the transport URL', 1),
            errors.describe(ACCESS_REFUSED, self.conf))

    def test_a_refused_certificate_login(self):
        cert = self.certificate_login()
        self.assertEqual(
            ('the message broker (broker1:5671, certificate login) refused '
             "the certificate login to vhost computeagent-node1: the common "
             "name 'node1' of the certificate %s is not a user of the "
             'broker' % cert, 1),
            errors.describe(ACCESS_REFUSED, self.conf))

    def test_the_url_given_names_the_vhost(self):
        self.certificate_login()
        message, _code = errors.describe(
            ACCESS_REFUSED, self.conf,
            URL.replace('computeagent-node1', 'computeagent-node2'))
        self.assertIn('login to vhost computeagent-node2:', message)
        message, _code = errors.describe(
            ACCESS_REFUSED, self.conf, 'rabbit://broker1:5671/')
        self.assertIn('refused the certificate login: the common name',
                      message)

    def test_a_refused_login_without_a_certificate(self):
        self.certificate_login(None)
        message, _code = errors.describe(ACCESS_REFUSED, self.conf)
        self.assertTrue(message.endswith(
            ': no client certificate ([oslo_messaging_rabbit] '
            'ssl_cert_file is unset) is not a user of the broker'), message)

    def test_a_certificate_that_cannot_be_read(self):
        self.certificate_login(None)
        self.flags(ssl_cert_file=self.tmp + '/nope.pem',
                   group=tlscheck.RABBIT)
        message, _code = errors.describe(ACCESS_REFUSED, self.conf)
        self.assertIn(': the common name of the certificate %s/nope.pem is '
                      'not a user of the broker' % self.tmp, message)

    def test_a_vhost_the_certificates_user_may_not_open(self):
        cert = self.certificate_login()
        self.assertEqual(
            ('the message broker (broker1:5671, certificate login) refused '
             "the connection: NOT_ALLOWED - access to vhost "
             "'computeagent-node1' refused for user 'node1' (the user is "
             "the common name 'node1' of the certificate %s)" % cert, 1),
            errors.describe(NOT_ALLOWED, self.conf))

    def test_a_vhost_refused_with_a_password(self):
        self.assertEqual(
            ('the message broker (broker1:5671, user node1) refused the '
             "connection: NOT_ALLOWED - access to vhost "
             "'computeagent-node1' refused for user 'node1'", 1),
            errors.describe(NOT_ALLOWED, self.conf))

    def test_the_broker_name_never_names_the_urls_user_with_certificates(
            self):
        self.assertEqual('broker1:5671, user node1',
                         errors.broker_name(self.conf))
        self.certificate_login()
        self.assertEqual('broker1:5671, certificate login',
                         errors.broker_name(self.conf))

    def test_before_oslo_messaging_registered_its_options(self):
        conf = cfg.ConfigOpts()
        conf([])
        self.assertFalse(errors.certificate_login(conf))
        self.assertEqual(
            ('the message broker (broker1:5671, user node1) refused the '
             'login: check the user and password of the transport URL', 1),
            errors.describe(ACCESS_REFUSED, conf, URL))

    def test_tls_failures(self):
        failure = tlscheck.ClientCertificateRefused(
            'broker1:5671', 'the message broker at broker1:5671 refused '
            'the certificate /c.pem: TLSV1_ALERT_UNKNOWN_CA (...)')
        self.assertEqual((str(failure), 1),
                         errors.describe(failure, self.conf))
        unreadable = tlscheck.TLSConfigError(
            '[oslo_messaging_rabbit] ssl_key_file /k.pem cannot be read: '
            'Permission denied')
        self.assertEqual(
            ('configuration: [oslo_messaging_rabbit] ssl_key_file /k.pem '
             'cannot be read: Permission denied', 2),
            errors.describe(unreadable, self.conf))
