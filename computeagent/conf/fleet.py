from oslo_config import cfg

GROUP = cfg.OptGroup('fleet', title='A fleet of compute nodes on one broker')

opts = [
    cfg.BoolOpt('vhost_per_host',
                default=False,
                help='The agent has a RabbitMQ vhost of its own, '
                     '<rpc_topic>-<host>, made with "computeagent-broker '
                     'add-host", which only this host and the controllers '
                     'may open: no other compute node can reach it. The '
                     'transport URL must name that vhost (checked at '
                     'start); the control exchange is amq.topic, and '
                     'queues are durable (the agent sets both unless they '
                     'are set otherwise, which it refuses). False: the '
                     'agents share the transport URL\'s vhost, and any '
                     'node able to log in could send requests to any '
                     'other (docs/operations.md, "A fleet").'),
    cfg.StrOpt('host_transport_url',
               secret=True,
               sample_default='rabbit://controller:PASSWORD@broker:5672/'
                              'computeagent-{host}',
               help='For computeagent-ctl and controllers using '
                    'computeagent.api.fleet: the transport URL of each '
                    'compute host, "{host}" standing for its name, e.g. '
                    'its per-host vhost. Unset: [DEFAULT] transport_url, '
                    'for every host.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
