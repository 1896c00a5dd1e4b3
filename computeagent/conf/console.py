"""``[console]``: the interactive serial console and its proxy.

The agent issues tokens (get_serial_console); the console proxy
(``computeagent-console-proxy``) on the same node takes them. Both read
this group from the same configuration file, so they agree on the token
directory.
"""

from oslo_config import cfg

GROUP = cfg.OptGroup('console', title='Interactive serial console options')

opts = [
    cfg.IntOpt('token_ttl',
               default=600, min=1, max=86400,
               help='Seconds a console token from get_serial_console '
                    'stays valid. A token is good for one connection; '
                    'one not used in time is refused and swept.'),
    cfg.StrOpt('token_dir',
               help='Directory of the console tokens the agent issues and '
                    'the proxy claims: one file per token, named by the '
                    'SHA-256 of the token (never the token itself), mode '
                    '0600. Default: <instances_path>/.console-tokens, or '
                    '.console-tokens.<host> when instances_path_shared. '
                    'Agent and proxy must see the same directory.'),
    cfg.HostAddressOpt('proxy_host',
                       default='127.0.0.1',
                       help='Address the console proxy listens on. Its '
                            'clients are people and tools that hold a '
                            'token; open it beyond loopback only with TLS '
                            '(proxy_cert_file) and a firewall.'),
    cfg.PortOpt('proxy_port',
                default=6083,
                help='TCP port the console proxy listens on.'),
    cfg.URIOpt('proxy_base_url',
               default='ws://127.0.0.1:6083/',
               schemes=['ws', 'wss'],
               help='The URL get_serial_console hands out, with '
                    '"?token=<token>" added: where clients reach this '
                    "node's console proxy (wss:// when it serves TLS)."),
    cfg.StrOpt('proxy_cert_file',
               help='PEM certificate (chain) of the console proxy: set, '
                    'it serves TLS only (wss://). Needs proxy_key_file.'),
    cfg.StrOpt('proxy_key_file',
               help='PEM private key of proxy_cert_file.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
