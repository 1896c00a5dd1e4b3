"""One look at the broker's TLS, to tell a certificate problem from an outage.

oslo.messaging's rabbit driver retries a connection that failed for
ever, whatever failed: ``ssl.SSLError`` is an ``OSError``, which kombu
counts as recoverable. That is right for a broker that is down or out
of reach, which the agent waits for; but a certificate that the broker
refuses, or that does not prove the broker to be the one named, stays
so however long the agent retries, and the agent's start would hang
logging "Connection failed ... retrying" instead of saying what is
wrong. :func:`check` connects once to each host of a transport URL with
the TLS options the driver uses and tells the two apart: it raises for
a TLS or certificate problem, and returns when a broker took the
certificate or none could be reached (the driver's retries then wait
for it).

With TLS 1.3 the broker checks the client's certificate after the
client's half of the handshake is over, and its refusal (an alert) may
race the client's first bytes: the client then sees the connection end
without the alert (here about one time in two without a certificate).
So the check sends the AMQP protocol header, as the driver does, and
reads the broker's answer (a Connection.Start at once when it took the
certificate); when the connection ended instead, it connects once more
and reads before it writes, which gets the alert.

The TLS options are the driver's: ``[oslo_messaging_rabbit] ssl``,
``ssl_ca_file``, ``ssl_cert_file``, ``ssl_key_file`` and
``ssl_version``, used as oslo.messaging 18 hands them to kombu and kombu
to py-amqp 5 (the broker's host name is checked only with an
``ssl_ca_file``; a host without a port is port 5672).
"""

import socket
import ssl

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging
from oslo_messaging import opts as messaging_opts

LOG = logging.getLogger(__name__)

RABBIT = 'oslo_messaging_rabbit'
#: seconds for a TCP connection and its TLS handshake (kombu's default
#: connect_timeout)
TIMEOUT = 5
#: seconds the second connection waits for the broker's alert; none
#: comes when it took the certificate
ALERT_WAIT = 2
# The AMQP 0-9-1 protocol header, the client's first bytes.
_AMQP_HEADER = b'AMQP\x00\x00\x09\x01'
# oslo.messaging's ssl_version values and the ssl module's protocols.
_SSL_VERSIONS = {'tlsv1': 'PROTOCOL_TLSv1', 'tlsv1_1': 'PROTOCOL_TLSv1_1',
                 'tlsv1_2': 'PROTOCOL_TLSv1_2', 'sslv2': 'PROTOCOL_SSLv2',
                 'sslv3': 'PROTOCOL_SSLv3', 'sslv23': 'PROTOCOL_SSLv23'}
# The connection ended, or is not over: no verdict on the certificate.
_NO_VERDICT = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError,
               ssl.SSLWantReadError, ssl.SSLWantWriteError)
# What the broker's alert says about the client's certificate.
_ALERTS = {
    'TLSV1_ALERT_UNKNOWN_CA': 'it trusts no CA that issued the certificate',
    'TLSV13_ALERT_CERTIFICATE_REQUIRED': 'it requires a client certificate',
    'SSLV3_ALERT_CERTIFICATE_EXPIRED': 'the certificate has expired',
    'SSLV3_ALERT_CERTIFICATE_REVOKED': 'the certificate was revoked',
    'SSLV3_ALERT_BAD_CERTIFICATE': 'it rejected the certificate',
    'SSLV3_ALERT_CERTIFICATE_UNKNOWN': 'it rejected the certificate',
    'SSLV3_ALERT_UNSUPPORTED_CERTIFICATE': 'it rejected the certificate',
}


class TLSConfigError(cfg.Error):
    """A TLS option names a file that cannot be used."""


class TLSFailure(Exception):
    """TLS with the broker failed in a way that no retry mends.

    :param address: ``host:port`` of the broker
    """

    def __init__(self, address, message):
        super().__init__(message)
        self.address = address


class BrokerCertificateUntrusted(TLSFailure):
    """The broker's certificate does not prove it is the broker named."""


class ClientCertificateRefused(TLSFailure):
    """The broker refused the client's certificate, or its lack of one."""


class _Ended(Exception):
    """The connection ended, or never began: no verdict."""

    def __init__(self, error, after_tls_13=False):
        super().__init__(error)
        #: the TLS 1.3 handshake was over: the broker may have refused
        #: the certificate, its alert lost in the race
        self.after_tls_13 = after_tls_13


def _register(conf):
    # oslo.messaging registers its options when it makes a transport;
    # its list_opts gives copies that oslo.config accepts again.
    for group, group_opts in messaging_opts.list_opts():
        conf.register_opts(group_opts, group=group)


def _readable(option, path):
    try:
        with open(path, 'rb'):
            pass
    except OSError as error:
        raise TLSConfigError('[%s] %s %s cannot be read: %s'
                             % (RABBIT, option, path,
                                error.strerror or error))


def _context(rabbit):
    """The SSLContext py-amqp makes of the driver's options.

    :raises: TLSConfigError
    """
    protocol = ssl.PROTOCOL_TLS_CLIENT
    if rabbit.ssl_version:
        name = _SSL_VERSIONS.get(rabbit.ssl_version.lower())
        if name is None or not hasattr(ssl, name):
            raise TLSConfigError('[%s] ssl_version %s is not one this '
                                 'Python has' % (RABBIT, rabbit.ssl_version))
        protocol = getattr(ssl, name)
    for option in ('ssl_cert_file', 'ssl_key_file', 'ssl_ca_file'):
        if rabbit[option]:
            _readable(option, rabbit[option])
    context = ssl.SSLContext(protocol)
    if rabbit.ssl_cert_file:
        try:
            context.load_cert_chain(rabbit.ssl_cert_file,
                                    rabbit.ssl_key_file or None)
        except (ssl.SSLError, OSError) as error:
            raise TLSConfigError(
                '[%s] ssl_cert_file %s and ssl_key_file %s are not a '
                'certificate and its private key: %s'
                % (RABBIT, rabbit.ssl_cert_file,
                   rabbit.ssl_key_file or '(unset)', error))
    if rabbit.ssl_ca_file:
        try:
            context.load_verify_locations(rabbit.ssl_ca_file)
        except (ssl.SSLError, OSError) as error:
            raise TLSConfigError('[%s] ssl_ca_file %s holds no CA '
                                 'certificate: %s'
                                 % (RABBIT, rabbit.ssl_ca_file, error))
        # oslo.messaging asks for the check with a CA file only.
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
    else:
        context.check_hostname = False
        if context.verify_mode != ssl.CERT_NONE:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    return context


def _addresses(conf, url):
    """``(host, port, name checked)`` of each broker host, in order."""
    parsed = oslo_messaging.TransportURL.parse(conf, url)
    if parsed.transport.replace('kombu+', '') != 'rabbit':
        return []
    hosts = parsed.hosts or [oslo_messaging.TransportHost('')]
    single = parsed.hosts[0].hostname if len(parsed.hosts) == 1 else None
    found = []
    for host in hosts:
        # kombu connects to 127.0.0.1 for localhost, and checks the
        # name oslo.messaging gives (the only host's), else the host's.
        name = host.hostname or 'localhost'
        if name == 'localhost':
            name = '127.0.0.1'
        found.append((name, host.port or 5672, single or name))
    return found


def _failure(error, address, rabbit):
    """The TLSFailure that an SSLError of a verdict tells."""
    if isinstance(error, ssl.SSLCertVerificationError):
        # "IP address mismatch, certificate is not valid for 'x'."
        why = (error.verify_message or str(error)).rstrip('.')
        return BrokerCertificateUntrusted(
            address, 'the TLS certificate of the message broker at %s is '
            'not trusted: %s ([%s] ssl_ca_file %s must be the CA of that '
            'certificate, whose subjectAltName must name the transport '
            "URL's host)" % (address, why, RABBIT,
                             rabbit.ssl_ca_file or '(unset)'))
    reason = error.reason or str(error)
    if '_ALERT_' in reason:
        if rabbit.ssl_cert_file:
            whose = 'the certificate %s' % rabbit.ssl_cert_file
        else:
            whose = ('the connection, which has no certificate ([%s] '
                     'ssl_cert_file is unset)' % RABBIT)
        return ClientCertificateRefused(
            address, 'the message broker at %s refused %s: %s (%s)'
            % (address, whose, reason,
               _ALERTS.get(reason, 'its TLS alert')))
    return TLSFailure(address, 'TLS with the message broker at %s failed: '
                      '%s (is port %s its TLS port?)'
                      % (address, error, address.rsplit(':', 1)[1]))


def _attempt(context, host, port, server_hostname, timeout, read_first):
    """Connect once; return when the broker took the certificate.

    :raises: ssl.SSLError for a verdict against it, _Ended otherwise
    """
    try:
        sock = socket.create_connection((host, port), timeout)
    except OSError as error:
        raise _Ended(error)
    tls_13 = False
    try:
        with context.wrap_socket(sock, server_hostname=server_hostname) \
                as tls:
            tls_13 = tls.version() == 'TLSv1.3'
            if read_first:
                tls.settimeout(min(timeout, ALERT_WAIT))
                try:
                    data = tls.recv(1)
                except socket.timeout:
                    return  # no alert: it took the certificate
            else:
                tls.sendall(_AMQP_HEADER)
                data = tls.recv(1)
            if not data:
                raise _Ended('the broker ended the connection', tls_13)
    except _NO_VERDICT as error:
        raise _Ended(error, tls_13)
    except ssl.SSLError:
        raise
    except OSError as error:
        raise _Ended(error, tls_13)
    finally:
        sock.close()


def _verdict(context, host, port, server_hostname, timeout):
    """Whether the broker at ``host:port`` took the certificate.

    :returns: True it took it, False no verdict (out of reach, or the
        connection ended)
    :raises: ssl.SSLError for a verdict against it
    """
    try:
        _attempt(context, host, port, server_hostname, timeout, False)
        return True
    except _Ended as ended:
        if not ended.after_tls_13:
            LOG.debug('TLS check of %s:%s: no verdict (%s)', host, port,
                      ended)
            return False
    try:
        _attempt(context, host, port, server_hostname, timeout, True)
        return True
    except _Ended as ended:
        LOG.debug('TLS check of %s:%s: no verdict (%s)', host, port, ended)
        return False


def check(conf, url=None, timeout=TIMEOUT):
    """Raise for a TLS problem with the broker; return otherwise.

    Does nothing unless the transport is rabbit with
    ``[oslo_messaging_rabbit] ssl``.
    Each host of the URL is tried in turn until one takes the
    certificate. A host out of reach is no error: the driver waits for
    it.

    :param url: the transport URL; default ``[DEFAULT] transport_url``
    :param timeout: seconds for each connection
    :raises: TLSConfigError when a file cannot be used; TLSFailure when
        no broker took the certificate and one said why (the first)
    """
    _register(conf)
    rabbit = conf[RABBIT]
    if not rabbit.ssl:
        return
    addresses = _addresses(conf, url)
    if not addresses:
        return
    context = _context(rabbit)
    failure = None
    for host, port, server_hostname in addresses:
        try:
            if _verdict(context, host, port, server_hostname, timeout):
                LOG.debug('TLS check of %s:%s: certificate taken', host,
                          port)
                return
        except ssl.SSLError as error:
            LOG.debug('TLS check of %s:%s: %s', host, port, error)
            address = ('[%s]:%s' if ':' in host else '%s:%s') % (host, port)
            failure = failure or _failure(error, address, rabbit)
    if failure is not None:
        raise failure
