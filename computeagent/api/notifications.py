"""Notifications of docs/api.md, sent through a durable outbox.

Each notification is made into oslo.messaging's notification message
(the same keys the ``messagingv2`` driver sends) with a ``message_id`` of
its own, written to the :class:`computeagent.api.outbox.Outbox` and
delivered from there by a sender thread, so the operation that produced
it never waits for the broker, and a broker outage or an agent restart
delays a notification instead of losing it. The id does not change when
a message is sent again, so a controller can drop a duplicate.

Why not ``oslo_messaging.Notifier``: it makes a new ``message_id`` on
each send, and it cannot say whether a send failed. Its ``_notify``
logs and swallows any error of a driver, and the messaging drivers
themselves log and swallow a failed publish ("Could not send
notification"): the Notifier's ``retry`` only chooses how long a send
blocks before the message is dropped (-1, the default, blocks until the
broker is back). So the drivers are loaded here as the Notifier loads
them, and a messaging driver's message is published the way that driver
publishes it, but with the failure let through. oslo.messaging's rabbit
driver publishes with kombu's ``confirm_publish``: a publish returns
only once the broker has confirmed it, so a message is removed from the
outbox only once the broker has taken it.
"""

import threading
import uuid

from oslo_log import log as logging
import oslo_messaging
from oslo_messaging.notify import messaging as notify_messaging
from oslo_messaging import opts as messaging_opts
from oslo_utils import timeutils
from stevedore import named

from computeagent.api import outbox as outbox_mod

LOG = logging.getLogger(__name__)

DEFAULT_DRIVER = 'messagingv2'
DRIVER_NAMESPACE = 'oslo.messaging.notify.drivers'
#: the sender tries once per attempt and waits between attempts itself,
#: so that a stopping agent is never held in a reconnect loop
SENDER_RETRY = 0


def _sanitize_context(ctxt):
    """The context as oslo.messaging's Notifier would send it.

    :returns: a redacted copy of a RequestContext; ``{}`` for a plain
        dict or None, as the Notifier does
    """
    if ctxt is None or type(ctxt) is dict:
        return {}
    try:
        return ctxt.redacted_copy()
    except AttributeError:
        LOG.warning('Unable to redact a context; sending none')
        return {}


class Drivers(object):
    """The notification drivers the configuration names, loaded once.

    ``[oslo_messaging_notifications] driver`` names them (``messagingv2``
    when it names none), ``topics`` the topics of the messaging drivers.
    """

    def __init__(self, conf, transport):
        self.transport = transport
        names = (conf.oslo_messaging_notifications.driver or
                 [DEFAULT_DRIVER])
        self._manager = named.NamedExtensionManager(
            DRIVER_NAMESPACE, names=names, invoke_on_load=True,
            invoke_args=[conf],
            invoke_kwds={'topics': conf.oslo_messaging_notifications.topics,
                         'transport': transport})

    def send(self, data, retry):
        """Send one message through every driver.

        :param data: ``{"ctxt", "message", "priority"}`` as queued
        :param retry: oslo.messaging's connection retries: 0 one attempt,
            -1 until the broker is back
        :raises: whatever a driver or the transport raised, e.g.
            oslo_messaging.MessageDeliveryFailure
        """
        ctxt, message = data['ctxt'], data['message']
        priority = data['priority']
        for extension in self._manager:
            driver = extension.obj
            if isinstance(driver, notify_messaging.MessagingDriver):
                for topic in driver.topics:
                    target = oslo_messaging.Target(
                        topic='%s.%s' % (topic, priority.lower()))
                    # The driver's own publish, without its except:
                    # Transport._send_notification is what every
                    # messaging notifier driver calls.
                    self.transport._send_notification(
                        target, ctxt, message, version=driver.version,
                        retry=retry)
            else:
                driver.notify(ctxt, message, priority, retry)


class Notifier(object):
    """Sends ``instance.<action>.<phase>`` and ``compute.host.status``.

    A notification never fails the operation it reports on. With an
    outbox it is queued durably and sent by :meth:`start`'s thread;
    without one (unit tests of compute) it is sent at once, and one that
    cannot be sent is logged, counted and dropped.

    :param outbox: a :class:`computeagent.api.outbox.Outbox`, or None
    """

    def __init__(self, conf, transport, host, serializer=None,
                 outbox=None):
        # oslo.messaging registers its notification options only when a
        # Notifier is built; read whether the operator chose a driver.
        for group, opts in messaging_opts.list_opts():
            if group == 'oslo_messaging_notifications':
                conf.register_opts(opts, group=group)
        self.publisher_id = 'computeagent.%s' % host
        self._serializer = serializer or oslo_messaging.NoOpSerializer()
        self._drivers = Drivers(conf, transport)
        self._retry = conf.oslo_messaging_notifications.retry
        self._outbox = outbox
        self._not_sent = 0
        self._not_sent_lock = threading.Lock()
        self._sender = None
        if outbox is not None:
            self._sender = outbox_mod.Sender(
                outbox, self._send_queued,
                conf.notifications.retry_interval,
                conf.notifications.retry_interval_max)

    @property
    def dropped(self):
        """Notifications lost since the agent started (none are resent)."""
        lost = self._not_sent
        if self._outbox is not None:
            lost += self._outbox.dropped
        return lost

    def start(self):
        """Start delivering from the outbox (and what it held at start)."""
        if self._sender is not None:
            self._sender.start()

    def stop(self, timeout):
        """Deliver for at most ``timeout`` seconds more, then stop sending.

        :returns: how many notifications stay in the outbox
        """
        if self._sender is None:
            return 0
        return self._sender.stop(timeout)

    def _send_queued(self, data):
        self._drivers.send(data, SENDER_RETRY)

    def _message(self, ctxt, event_type, payload, priority):
        """The queued form: the message as the messaging driver sends it.

        :returns: ``{"ctxt", "message", "priority"}``
        """
        payload = self._serializer.serialize_entity(ctxt, payload)
        ctxt = self._serializer.serialize_context(_sanitize_context(ctxt))
        message = {'message_id': str(uuid.uuid4()),
                   'publisher_id': self.publisher_id,
                   'event_type': event_type,
                   'priority': priority,
                   'payload': payload,
                   'timestamp': str(timeutils.utcnow())}
        return {'ctxt': ctxt, 'message': message, 'priority': priority}

    def _send(self, ctxt, event_type, payload, error=False):
        try:
            data = self._message(ctxt, event_type, payload,
                                 'ERROR' if error else 'INFO')
            if self._outbox is not None:
                self._outbox.put(data)
            else:
                self._drivers.send(data, self._retry)
        except Exception:
            with self._not_sent_lock:
                self._not_sent += 1
            LOG.exception('Could not send notification %s', event_type)

    def instance(self, ctxt, action, phase, record, **extra):
        """Send ``instance.<action>.<phase>`` with the record as payload.

        :param phase: start, end or error; ``update`` (with the action
            ``power_state``) for a change the agent did not make
        """
        payload = dict(record, **extra)
        self._send(ctxt, 'instance.%s.%s' % (action, phase), payload,
                   error=(phase == 'error'))

    def host_status(self, ctxt, status):
        self._send(ctxt, 'compute.host.status', status)
