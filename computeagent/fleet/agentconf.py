"""The agent's messaging options when it serves a vhost of its own.

With ``[fleet] vhost_per_host`` the agent's transport URL must name its
own vhost (:func:`computeagent.fleet.vhosts.vhost_name`); its control
exchange is ``amq.topic`` and its queues durable, as the permissions of
:mod:`computeagent.fleet.vhosts` expect. Those two are defaults here, not
overrides: an operator who set them otherwise is told so at start rather
than silently overruled, as is a transport URL naming another vhost.
"""

from oslo_config import cfg
import oslo_messaging
from oslo_messaging import opts as messaging_opts

from computeagent.fleet import vhosts

RABBIT = 'oslo_messaging_rabbit'


class FleetConfigError(cfg.Error):
    """The agent's messaging options contradict ``vhost_per_host``."""


def _register_messaging_opts(conf):
    # oslo.messaging registers its options when it makes a transport,
    # which reads them at once: their defaults must be set before. Its
    # list_opts (the sample generator's hook) gives copies equal to the
    # options it registers later, which oslo.config accepts again.
    for group, group_opts in messaging_opts.list_opts():
        conf.register_opts(group_opts, group=group)


def prepare(conf):
    """Set and check the messaging options before any transport is made.

    Does nothing unless ``[fleet] vhost_per_host``.

    :raises: FleetConfigError naming the option to change
    """
    if not conf.fleet.vhost_per_host:
        return
    _register_messaging_opts(conf)
    conf.set_default('control_exchange', vhosts.EXCHANGE)
    conf.set_default('amqp_durable_queues', True, group=RABBIT)
    if conf.control_exchange != vhosts.EXCHANGE:
        raise FleetConfigError(
            'with [fleet] vhost_per_host, [DEFAULT] control_exchange must '
            'be %s (it is %s): leave it unset' % (vhosts.EXCHANGE,
                                                  conf.control_exchange))
    if not conf[RABBIT].amqp_durable_queues:
        raise FleetConfigError(
            'with [fleet] vhost_per_host, [%s] amqp_durable_queues must be '
            'true (%s is durable): leave it unset' % (RABBIT,
                                                      vhosts.EXCHANGE))
    expected = vhosts.vhost_name(conf.rpc_topic, conf.host)
    urls = [('[DEFAULT] transport_url', conf.transport_url)]
    if conf.oslo_messaging_notifications.transport_url:
        urls.append(('[oslo_messaging_notifications] transport_url',
                     conf.oslo_messaging_notifications.transport_url))
    for option, url in urls:
        vhost = oslo_messaging.TransportURL.parse(conf, url).virtual_host
        if vhost != expected:
            raise FleetConfigError(
                'with [fleet] vhost_per_host, %s must name the vhost %s of '
                'host %s (it names %s); computeagent-broker add-host makes '
                'it' % (option, expected, conf.host, vhost or 'none'))
