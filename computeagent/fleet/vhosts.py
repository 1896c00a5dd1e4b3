"""The fleet's names and permissions: one vhost per compute host.

What an agent serving topic ``T`` as host ``X`` uses (oslo.messaging's
rabbit driver): the queues ``T`` and ``T.X`` bound to the control
exchange with those routing keys, a fanout exchange ``T_fanout`` with a
queue ``T_fanout_<id>`` per process, the default exchange to answer
calls (the caller's reply queue by name), and for notifications the
queues ``notifications.<priority>`` bound to the control exchange. A
controller declares and reads its ``reply_<id>`` queues, publishes
requests to the control exchange and reads the notification queues.

The control exchange is ``amq.topic``: RabbitMQ lets nobody delete or
re-declare an ``amq.*`` exchange, so not even a host's own user can
change how its vhost routes. It is durable, hence the agent's
``amqp_durable_queues`` (oslo.messaging declares the control exchange
with that durability; the other is refused).

Each permission is a regular expression RabbitMQ matches against whole
resource names (configure: declare and delete; write: publish, and bind
a queue; read: consume, and bind from an exchange); topic permissions
match routing keys on ``amq.topic``. Everything is within the host's
vhost, which the host's user alone of all hosts may open.
"""

import dataclasses
import re

#: The control exchange of every per-host vhost.
EXCHANGE = 'amq.topic'
#: oslo.messaging's notification topic (its default, the agent's).
NOTIFICATIONS = 'notifications'
#: A host name usable as a RabbitMQ vhost and user name: DNS-like.
_HOST_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,252}')


class InvalidHostName(ValueError):
    """A name that cannot be a host's RabbitMQ user and vhost."""


@dataclasses.dataclass(frozen=True)
class Grant:
    """One user's rights in one vhost, as rabbitmqctl takes them."""

    user: str
    vhost: str
    configure: str
    write: str
    read: str
    #: routing keys the user may publish to :data:`EXCHANGE`
    topic_write: str
    #: routing keys the user may bind queues to :data:`EXCHANGE` with
    topic_read: str


def check_host_name(host):
    """:raises: InvalidHostName unless ``host`` is a usable host name."""
    if not isinstance(host, str) or not _HOST_NAME.fullmatch(host):
        raise InvalidHostName(
            '%r is not a host name usable as a RabbitMQ user and vhost '
            'name (letters, digits, ".", "_", "-"; starting with a letter '
            'or digit)' % (host,))


def vhost_name(topic, host):
    """The vhost of compute host ``host``: ``<topic>-<host>``."""
    check_host_name(host)
    return '%s-%s' % (topic, host)


def _names(*patterns):
    return '^(%s)$' % '|'.join(patterns)


def host_grant(topic, host):
    """What host ``host``'s own user may do in its own vhost."""
    t = re.escape(topic)
    x = re.escape(host)
    exchange = re.escape(EXCHANGE)
    notifications = re.escape(NOTIFICATIONS) + r'\..+'
    # Its fanout queues: T_fanout_<id>, or T_fanout as a stream queue.
    fanout_queues = r'%s_fanout(_.+)?' % t
    return Grant(
        user=host, vhost=vhost_name(topic, host),
        configure=_names(exchange, t, r'%s\.%s' % (t, x),
                         '%s_fanout' % t, fanout_queues, notifications),
        write=_names(r'amq\.default', exchange, t, r'%s\.%s' % (t, x),
                     fanout_queues, notifications),
        read=_names(exchange, t, r'%s\.%s' % (t, x), '%s_fanout' % t,
                    fanout_queues),
        # It publishes notifications, nothing else, to the exchange.
        topic_write=_names(notifications),
        topic_read=_names(t, r'%s\.%s' % (t, x), notifications))


def controller_grant(topic, host, controller):
    """What controller user ``controller`` may do in host ``host``'s vhost.

    It declares and reads its own reply queues, sends requests to the
    host (to the topic with the host as server, or fanout) and reads the
    host's notifications; it never consumes the host's requests.
    """
    t = re.escape(topic)
    exchange = re.escape(EXCHANGE)
    notifications = re.escape(NOTIFICATIONS) + r'\..+'
    return Grant(
        user=controller, vhost=vhost_name(topic, host),
        configure=_names(exchange, '%s_fanout' % t, r'reply_.+',
                         notifications),
        write=_names(exchange, '%s_fanout' % t, notifications),
        read=_names(exchange, r'reply_.+', notifications),
        topic_write=_names(r'%s\..+' % t),
        topic_read=_names(notifications))
