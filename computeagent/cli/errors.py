"""One line for each way a command can fail before or beside its work.

``computeagent`` and ``computeagent-ctl`` end a failure with one line on
stderr, never a traceback. Most errors already read well; the ones here
do not: oslo.config's value errors name an internal location object, and
oslo.messaging's rabbit driver lets the AMQP library's own exceptions
through (a refused login arrives as ``amqp.exceptions.AccessRefused``,
not as an oslo.messaging exception).

With certificate login (``[oslo_messaging_rabbit] rabbit_login_method =
EXTERNAL``) the broker ignores the user and password of the transport
URL and logs the client in as its certificate's common name, so the
messages name the certificate instead. TLS failures that no retry mends
come from :mod:`computeagent.api.tlscheck`.
"""

import re

from oslo_config import cfg
import oslo_messaging

from computeagent.api import tlscheck

#: exit status of a usage or configuration error (as argparse uses)
USAGE = 2
#: exit status of a failure at run time
FAILURE = 1

# AMQP 0-9-1 reply codes of a refused login, and of a vhost the user
# may not open (or that does not exist).
_ACCESS_REFUSED = 403
_NOT_ALLOWED = 530

# "from LocationInfo(location=<Locations.user: (4, True)>,
# detail='/etc/x.conf')" in oslo.config's value errors: the file is the
# useful part.
_LOCATION = re.compile(r"from LocationInfo\(.*?detail='([^']*)'\)")


def _rabbit_option(conf, name):
    """An ``[oslo_messaging_rabbit]`` option, or None before it exists.

    oslo.messaging registers its options when it makes a transport.
    """
    try:
        return conf[tlscheck.RABBIT][name]
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, KeyError):
        return None


def certificate_login(conf):
    """Whether the broker logs in with the client's certificate."""
    return (conf is not None and
            (_rabbit_option(conf, 'rabbit_login_method') or '').upper() ==
            'EXTERNAL')


def _common_name(path):
    """The common name of the certificate in ``path``, or None."""
    # Imported here, for a refused certificate login only: it is a tenth
    # of a second of every start of the agent and of computeagent-ctl.
    from cryptography import x509
    from cryptography.x509 import oid
    try:
        with open(path, 'rb') as f:
            cert = x509.load_pem_x509_certificate(f.read())
        names = cert.subject.get_attributes_for_oid(oid.NameOID.COMMON_NAME)
    except Exception:
        # Only a message is at stake.
        return None
    return names[0].value if names else None


def _certificate(conf):
    """The client certificate, for messages: its common name and file."""
    path = _rabbit_option(conf, 'ssl_cert_file')
    if not path:
        return ('no client certificate ([%s] ssl_cert_file is unset)'
                % tlscheck.RABBIT)
    name = _common_name(path)
    if name is None:
        return 'the common name of the certificate %s' % path
    return "the common name %r of the certificate %s" % (name, path)


def broker_name(conf, url=None):
    """Which broker, for messages: its address and user, or its transport.

    Never the password. With certificate login the URL's user is not
    the one logged in, and is not named.

    :param url: the transport URL; default ``[DEFAULT] transport_url``
    :returns: e.g. ``"localhost:5672, user guest"``, ``"broker1:5671,
        certificate login"`` or ``"transport fake"``
    """
    try:
        parsed = oslo_messaging.TransportURL.parse(conf, url)
    except Exception:
        # Only a message is at stake; the error itself is reported by
        # whoever uses the URL.
        return 'transport URL unreadable'
    by_certificate = certificate_login(conf)
    names = []
    for host in parsed.hosts:
        name = host.hostname or 'localhost'
        if host.port:
            name = '%s:%s' % (name, host.port)
        if by_certificate:
            name = '%s, certificate login' % name
        elif host.username:
            name = '%s, user %s' % (name, host.username)
        names.append(name)
    return '; '.join(names) or 'transport %s' % parsed.transport


def _vhost(conf, url):
    """The vhost the URL names, or None."""
    try:
        return oslo_messaging.TransportURL.parse(conf, url).virtual_host
    except Exception:
        return None


def describe(error, conf=None, url=None):
    """The one line and exit status for an error, if this module knows it.

    :param error: the exception
    :param conf: the ConfigOpts the transport was made from, to name the
        broker
    :param url: the transport URL given on the command line, if any
    :returns: ``(message, exit status)`` or None for an error the caller
        words itself
    """
    if isinstance(error, cfg.Error):
        return 'configuration: %s' % _LOCATION.sub(
            r'in \1', str(error)), USAGE
    if isinstance(error, oslo_messaging.InvalidTransportURL):
        return 'invalid transport URL: %s' % error, USAGE
    if isinstance(error, oslo_messaging.DriverLoadFailure):
        return ('no oslo.messaging driver for the transport URL (%s)'
                % error), USAGE
    if isinstance(error, tlscheck.TLSFailure):
        return str(error), FAILURE
    broker = 'the message broker'
    if conf is not None:
        broker = 'the message broker (%s)' % broker_name(conf, url)
    # The AMQP library's exceptions carry the broker's reply code; this
    # reads it without importing the library oslo.messaging happens to
    # use.
    code = getattr(error, 'reply_code', None)
    reply = getattr(error, 'reply_text', error)
    if code == _ACCESS_REFUSED:
        if certificate_login(conf):
            # RabbitMQ refuses so a certificate login whose name is no
            # user; a user that may not open the vhost is _NOT_ALLOWED.
            vhost = _vhost(conf, url)
            return ('%s refused the certificate login%s: %s is not a user '
                    'of the broker' % (
                        broker, ' to vhost %s' % vhost if vhost else '',
                        _certificate(conf))), FAILURE
        return ('%s refused the login: check the '
                'user and password of the transport URL' % broker), FAILURE
    if code == _NOT_ALLOWED and certificate_login(conf):
        return ('%s refused the connection: %s (the user is %s)'
                % (broker, reply, _certificate(conf))), FAILURE
    if isinstance(code, int) and code >= 300:
        return ('%s refused the connection: %s'
                % (broker, reply)), FAILURE
    if isinstance(error, oslo_messaging.MessageDeliveryFailure):
        return ('cannot reach %s: %s'
                % (broker, error)), FAILURE
    if isinstance(error, ConnectionError):
        return ('cannot reach %s: %s'
                % (broker, error)), FAILURE
    return None
