"""``computeagent-broker``: give compute hosts and controllers their place.

Run on a RabbitMQ node (as the broker's user, or with its ``HOME``: it
uses ``rabbitmqctl``). Every command is idempotent. ``add-host`` ends
with the lines the host's agent configuration needs.
"""

import argparse
import sys

from computeagent.cli import errors
from computeagent.fleet import provision
from computeagent.fleet import rabbitmqctl
from computeagent.fleet import vhosts

PROG = 'computeagent-broker'


class _Parser(argparse.ArgumentParser):
    """One line for a usage error, as computeagent-ctl."""

    def error(self, message):
        self.exit(errors.USAGE, '%s: error: %s (see %s --help)\n'
                  % (self.prog, message, self.prog))


def _password_options(parser):
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--password-file', metavar='PATH',
        help="file whose first line is the user's password (default: a "
             "new user gets none and may log in only with a TLS "
             "certificate whose common name is its name; an existing "
             "user keeps its password)")
    group.add_argument(
        '--certificate-only', action='store_true',
        help="clear the user's password: it may log in only with a TLS "
             "certificate")


def build_parser():
    parser = _Parser(
        prog=PROG, description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--node', metavar='NODE',
                        help="the RabbitMQ node, e.g. rabbit@broker1 "
                             "(default: rabbitmqctl's)")
    parser.add_argument('--rabbitmqctl', metavar='PATH',
                        default='rabbitmqctl', help='the command to run')
    parser.add_argument('--topic', default='computeagent',
                        help="the agents' RPC topic ([DEFAULT] rpc_topic); "
                             "vhosts are named <topic>-<host>")
    commands = parser.add_subparsers(dest='command', metavar='COMMAND',
                                     required=True)

    add_host = commands.add_parser(
        'add-host', help="add a compute host: its vhost, its user, and "
                         "its controllers' permissions there")
    add_host.add_argument('host', help="the host's [DEFAULT] host; also "
                                       "its user name")
    add_host.add_argument('--controller', action='append', metavar='USER',
                          help='controller user allowed to command the '
                               'host; may be repeated (default: '
                               'controller)')
    _password_options(add_host)

    remove_host = commands.add_parser(
        'remove-host', help="remove a compute host: its vhost, with its "
                            "queues and messages, and its user")
    remove_host.add_argument('host')

    add_peers = commands.add_parser(
        'add-peers', help='let hosts live-migrate to each other: each may '
                          'ask the others, on their peer topic only')
    add_peers.add_argument('hosts', nargs='+', metavar='HOST')

    remove_peers = commands.add_parser(
        'remove-peers', help='undo add-peers between these hosts')
    remove_peers.add_argument('hosts', nargs='+', metavar='HOST')

    add_controller = commands.add_parser(
        'add-controller', help='add a controller user; --host lets it '
                               'command hosts already added')
    add_controller.add_argument('name')
    add_controller.add_argument('--host', action='append', default=[],
                                metavar='HOST',
                                help='a host it may command; may be '
                                     'repeated')
    _password_options(add_controller)

    remove_controller = commands.add_parser(
        'remove-controller', help='remove a controller user and its '
                                  'permissions everywhere')
    remove_controller.add_argument('name')
    return parser


def _password(args):
    if not args.password_file:
        return None
    with open(args.password_file) as f:
        password = f.readline().rstrip('\n')
    if not password:
        raise provision.ProvisionError('%s holds no password on its first '
                                       'line' % args.password_file)
    return password


def agent_configuration(topic, host):
    """The lines a host's agent configuration needs, for the operator."""
    return ('[DEFAULT]\n'
            'host = {host}\n'
            'transport_url = rabbit://{host}:PASSWORD@BROKER:5672/{vhost}\n'
            '# with TLS and certificate login: rabbit://BROKER:5671/{vhost}'
            ' and [oslo_messaging_rabbit] ssl options\n'
            '\n'
            '[fleet]\n'
            'vhost_per_host = true\n').format(
                host=host, vhost=vhosts.vhost_name(topic, host))


def _run(args):
    ctl = rabbitmqctl.Rabbitmqctl(node=args.node,
                                  executable=args.rabbitmqctl)
    if args.command == 'add-host':
        changes = provision.add_host(
            ctl, args.topic, args.host, args.controller or ['controller'],
            password=_password(args),
            certificate_only=args.certificate_only)
    elif args.command == 'remove-host':
        changes = provision.remove_host(ctl, args.topic, args.host)
    elif args.command == 'add-peers':
        changes = provision.add_peers(ctl, args.topic, args.hosts)
    elif args.command == 'remove-peers':
        changes = provision.remove_peers(ctl, args.topic, args.hosts)
    elif args.command == 'add-controller':
        changes = provision.add_controller(
            ctl, args.topic, args.name, hosts=args.host,
            password=_password(args),
            certificate_only=args.certificate_only)
    else:
        changes = provision.remove_controller(ctl, args.name)
    for line in changes.done or ['nothing to change']:
        print(line)
    if args.command == 'add-host':
        print('\nThe agent of %s needs, in its configuration:\n\n%s'
              % (args.host, agent_configuration(args.topic, args.host)),
              end='')


def main(argv=None):
    """:returns: 0 done, 1 the broker failed, 2 a usage error"""
    args = build_parser().parse_args(argv)
    try:
        _run(args)
    except (provision.ProvisionError, ValueError, OSError) as error:
        print('%s: error: %s' % (PROG, error), file=sys.stderr)
        return errors.USAGE
    except rabbitmqctl.BrokerCommandError as error:
        print('%s: error: %s' % (PROG, error), file=sys.stderr)
        return errors.FAILURE
    return 0


if __name__ == '__main__':
    sys.exit(main())
