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


def peer_topic(topic):
    """The topic agents serve each other on (live migration)."""
    return '%s-peer' % topic


def vhost_name(topic, host):
    """The vhost of compute host ``host``: ``<topic>-<host>``."""
    check_host_name(host)
    return '%s-%s' % (topic, host)


def _names(*patterns):
    return '^(%s)$' % '|'.join(patterns)


def _served(topic, host):
    """The queues and fanout exchange of a server of ``topic`` as ``host``.

    :returns: (queues, fanout exchange, routing keys), patterns
    """
    t = re.escape(topic)
    keys = (t, r'%s\.%s' % (t, re.escape(host)))
    # Its fanout queues: T_fanout_<id>, or T_fanout as a stream queue.
    queues = keys + (r'%s_fanout(_.+)?' % t,)
    return queues, '%s_fanout' % t, keys


def host_grant(topic, host):
    """What host ``host``'s own user may do in its own vhost.

    It serves the agents' topic and their peer topic (live migration).
    """
    exchange = re.escape(EXCHANGE)
    notifications = re.escape(NOTIFICATIONS) + r'\..+'
    queues, fanouts, keys = (), (), ()
    for served in (topic, peer_topic(topic)):
        served_queues, fanout, served_keys = _served(served, host)
        queues += served_queues
        fanouts += (fanout,)
        keys += served_keys
    return Grant(
        user=host, vhost=vhost_name(topic, host),
        configure=_names(exchange, *(queues + fanouts + (notifications,))),
        write=_names(r'amq\.default', exchange,
                     *(queues + (notifications,))),
        read=_names(exchange, *(queues + fanouts)),
        # It publishes notifications, nothing else, to the exchange.
        topic_write=_names(notifications),
        topic_read=_names(*(keys + (notifications,))))


def peer_grant(topic, host, peer):
    """What host ``peer``'s user may do in host ``host``'s vhost.

    Ask ``host``'s agent on the peer topic, with ``host`` as the server
    (live migration's prepare, finish and abort), and read the answers:
    nothing else. It cannot send ``host`` a request of the agents' own
    topic, nor consume, bind or declare any of ``host``'s queues.
    """
    exchange = re.escape(EXCHANGE)
    return Grant(
        user=peer, vhost=vhost_name(topic, host),
        configure=_names(exchange, r'reply_.+'),
        write=_names(exchange),
        read=_names(exchange, r'reply_.+'),
        topic_write=_names(r'%s\.%s' % (re.escape(peer_topic(topic)),
                                        re.escape(host))),
        # Binds nothing to the exchange: no routing key.
        topic_read='^$')


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
