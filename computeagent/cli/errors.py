"""One line for each way a command can fail before or beside its work.

``computeagent`` and ``computeagent-ctl`` end a failure with one line on
stderr, never a traceback. Most errors already read well; the ones here
do not: oslo.config's value errors name an internal location object, and
oslo.messaging's rabbit driver lets the AMQP library's own exceptions
through (a refused login arrives as ``amqp.exceptions.AccessRefused``,
not as an oslo.messaging exception).
"""

import re

from oslo_config import cfg
import oslo_messaging

#: exit status of a usage or configuration error (as argparse uses)
USAGE = 2
#: exit status of a failure at run time
FAILURE = 1

# AMQP 0-9-1 reply code of a refused login.
_ACCESS_REFUSED = 403

# "from LocationInfo(location=<Locations.user: (4, True)>,
# detail='/etc/x.conf')" in oslo.config's value errors: the file is the
# useful part.
_LOCATION = re.compile(r"from LocationInfo\(.*?detail='([^']*)'\)")


def broker_name(conf, url=None):
    """Which broker, for messages: its address and user, or its transport.

    Never the password.

    :param url: the transport URL; default ``[DEFAULT] transport_url``
    :returns: e.g. ``"localhost:5672, user guest"`` or ``"transport fake"``
    """
    try:
        parsed = oslo_messaging.TransportURL.parse(conf, url)
    except Exception:
        # Only a message is at stake; the error itself is reported by
        # whoever uses the URL.
        return 'transport URL unreadable'
    names = []
    for host in parsed.hosts:
        name = host.hostname or 'localhost'
        if host.port:
            name = '%s:%s' % (name, host.port)
        if host.username:
            name = '%s, user %s' % (name, host.username)
        names.append(name)
    return '; '.join(names) or 'transport %s' % parsed.transport


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
    broker = 'the message broker'
    if conf is not None:
        broker = 'the message broker (%s)' % broker_name(conf, url)
    # The AMQP library's exceptions carry the broker's reply code; this
    # reads it without importing the library oslo.messaging happens to
    # use.
    code = getattr(error, 'reply_code', None)
    if code == _ACCESS_REFUSED:
        return ('%s refused the login: check the '
                'user and password of the transport URL' % broker), FAILURE
    if isinstance(code, int) and code >= 300:
        return ('%s refused the connection: %s'
                % (broker, getattr(error, 'reply_text', error))), FAILURE
    if isinstance(error, oslo_messaging.MessageDeliveryFailure):
        return ('cannot reach %s: %s'
                % (broker, error)), FAILURE
    if isinstance(error, ConnectionError):
        return ('cannot reach %s: %s'
                % (broker, error)), FAILURE
    return None
