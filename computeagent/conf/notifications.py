from oslo_config import cfg

GROUP = cfg.OptGroup('notifications', title='Notification outbox options')

opts = [
    cfg.IntOpt('outbox_max',
               default=10000, min=1,
               help='Most notifications the durable outbox '
                    '(<instances_path>/.outbox) keeps while the broker '
                    'cannot take them. Beyond it the oldest is dropped, '
                    'logged and counted (get_host_status '
                    '"notifications_dropped").'),
    cfg.FloatOpt('retry_interval',
                 default=1.0, min=0.01,
                 help='Seconds the notification sender waits after a '
                      'failed send before it tries again; doubled after '
                      'each further failure, up to retry_interval_max.'),
    cfg.FloatOpt('retry_interval_max',
                 default=30.0, min=0.01,
                 help='Longest wait (seconds) between two attempts of the '
                      'notification sender while the broker is down.'),
    cfg.FloatOpt('shutdown_timeout',
                 default=5.0, min=0.0,
                 help='Seconds a stopping agent gives the notification '
                      'sender to deliver what is pending. What is left '
                      'stays in the outbox and is sent after the next '
                      'start.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
