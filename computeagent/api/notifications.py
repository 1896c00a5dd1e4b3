"""Notifications of docs/api.md, sent with oslo.messaging's notifier."""

from oslo_log import log as logging
import oslo_messaging
from oslo_messaging import opts as messaging_opts

LOG = logging.getLogger(__name__)

DEFAULT_DRIVER = 'messagingv2'


class Notifier(object):
    """Sends ``instance.<action>.<phase>`` and ``compute.host.status``.

    A notification that cannot be sent is logged and dropped: losing one
    must never fail the operation it reports on.
    """

    def __init__(self, conf, transport, host, serializer=None):
        # The notifier registers its options only when first built; read
        # whether the operator chose a driver before relying on ours.
        for group, opts in messaging_opts.list_opts():
            if group == 'oslo_messaging_notifications':
                conf.register_opts(opts, group=group)
        drivers = conf.oslo_messaging_notifications.driver
        self._notifier = oslo_messaging.Notifier(
            transport,
            publisher_id='computeagent.%s' % host,
            driver=None if drivers else DEFAULT_DRIVER,
            serializer=serializer)

    def _send(self, ctxt, event_type, payload, error=False):
        try:
            if error:
                self._notifier.error(ctxt, event_type, payload)
            else:
                self._notifier.info(ctxt, event_type, payload)
        except Exception:
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
