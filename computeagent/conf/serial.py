from oslo_config import cfg

GROUP = cfg.OptGroup('serial', title='Serial and parallel port options')

#: the hosts a udp port may send to unless configured otherwise
LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost']

opts = [
    cfg.ListOpt('udp_allowed_hosts',
                default=LOOPBACK_HOSTS,
                help='The remote hosts a serial or parallel port of type '
                     'udp may send the guest\'s output to: IP addresses '
                     'and host names, compared as written (case aside; '
                     'a name is not resolved, so list the address too '
                     'if specs may give either). A udp port whose host '
                     'is not listed is refused with InvalidSpec. The '
                     'default allows loopback only; an empty list '
                     'refuses every udp port.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
