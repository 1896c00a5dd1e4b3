"""``computeagent-ctl``: talk to the agent of a compute node over RPC."""

import argparse
import sys

from oslo_config import cfg
import oslo_messaging

from computeagent.api import rpcapi
from computeagent.cli import output
from computeagent.cli import specargs
from computeagent import conf as agent_conf
from computeagent import exception

# command -> (rpcapi method, result kind) for commands taking a uuid only
SIMPLE = {
    'show': ('get_instance', 'instance'),
    'delete': ('delete_instance', 'mapping'),
    'start': ('start_instance', 'instance'),
    'pause': ('pause_instance', 'instance'),
    'unpause': ('unpause_instance', 'instance'),
    'suspend': ('suspend_instance', 'instance'),
    'resume': ('resume_instance', 'instance'),
}


def _parser():
    parser = argparse.ArgumentParser(
        prog='computeagent-ctl',
        description='Control the computeagent of a compute node.')
    parser.add_argument('--config-file', action='append', default=[],
                        help='agent configuration file(s) to read the '
                             'transport_url and rpc_topic from')
    parser.add_argument('--transport-url',
                        help='oslo.messaging transport URL, e.g. '
                             'rabbit://guest:guest@localhost:5672/')
    parser.add_argument('--host', help='compute node to address '
                        '(default: [DEFAULT] host)')
    parser.add_argument('--topic', help='RPC topic (default: [DEFAULT] '
                        'rpc_topic)')
    parser.add_argument('--timeout', type=int, default=600,
                        help='seconds to wait for an answer')
    parser.add_argument('--format', choices=('table', 'json'),
                        default='table', help='output format')
    sub = parser.add_subparsers(dest='command', required=True)

    boot = sub.add_parser('boot', help='create an instance')
    boot.add_argument('--spec', help='JSON or YAML instance spec file; '
                      'flags below add to or override it')
    boot.add_argument('--uuid')
    boot.add_argument('--name')
    boot.add_argument('--vcpus', type=int)
    boot.add_argument('--memory-mb', dest='memory_mb', type=int)
    boot.add_argument('--disk', action='append', metavar='KEY=VALUE,...',
                      help='image=NAME|blank, bus, format, size_mb, '
                           'boot_index, cache, aio, iothread, discard, '
                           'snapshot, readonly, serial, iotune.KEY')
    boot.add_argument('--cdrom', action='append', metavar='KEY=VALUE,...',
                      help='a cdrom: image=NAME (empty drive without)')
    boot.add_argument('--serial', action='append', metavar='KEY=VALUE,...',
                      help='a serial port: type=file|pty|unix|tcp|null, '
                           'log, host, port')
    boot.add_argument('--nic', action='append', metavar='KEY=VALUE,...')
    boot.add_argument('--video', choices=('none', 'vga', 'cirrus',
                                          'virtio'))
    boot.add_argument('--vnc', metavar='ADDRESS',
                      help='VNC graphics listening on ADDRESS')
    boot.add_argument('--boot-menu', action='store_true')
    boot.add_argument('--metadata', action='append', metavar='KEY=VALUE')
    boot.add_argument('--wait', action='store_true',
                      help='wait until the instance runs (default: send '
                           'the request and return)')
    boot.add_argument('--dry-run', action='store_true',
                      help='show the domain XML and disk plan only')

    sub.add_parser('list', help='list instances')
    for name in SIMPLE:
        sub.add_parser(name, help='%s an instance' % name).add_argument(
            'uuid')
    console = sub.add_parser('console', help="show the guest's serial "
                             "console output")
    console.add_argument('uuid')
    console.add_argument('--tail', type=int, dest='tail_lines')
    console.add_argument('--max-bytes', type=int, default=102400)
    reboot = sub.add_parser('reboot', help='reboot an instance')
    reboot.add_argument('uuid')
    reboot.add_argument('--hard', action='store_true')
    stop = sub.add_parser('stop', help='shut an instance down')
    stop.add_argument('uuid')
    stop.add_argument('--timeout', dest='stop_timeout', type=int,
                      default=60, help='seconds before forcing it off')
    attach = sub.add_parser('attach-disk', help='attach a disk')
    attach.add_argument('uuid')
    attach.add_argument('disk', metavar='KEY=VALUE,...')
    attach.add_argument('--cdrom', action='store_true')
    detach = sub.add_parser('detach-disk', help='detach a disk')
    detach.add_argument('uuid')
    detach.add_argument('target')
    media = sub.add_parser('change-media', help='insert or eject a cdrom')
    media.add_argument('uuid')
    media.add_argument('target')
    media.add_argument('--image', help='image to insert (omit to eject)')
    commit = sub.add_parser('commit-disk', help="merge a snapshot disk's "
                            "changes into its file")
    commit.add_argument('uuid')
    commit.add_argument('target')
    sub.add_parser('host-status', help="the compute node's resources")
    return parser


def _client(args):
    conf = agent_conf.CONF
    agent_conf.register_opts(conf)
    # Without --config-file, oslo.config looks in the usual places
    # (/etc/computeagent/computeagent.conf, ...) as the agent does.
    conf(['--config-file=%s' % f for f in args.config_file],
         project='computeagent')
    host = args.host or conf.host
    topic = args.topic or conf.rpc_topic
    # Handed to oslo.messaging as the URL itself: its transport_url
    # option exists only once a transport was made, so it cannot be
    # overridden before.
    transport = rpcapi.get_transport(conf, url=args.transport_url)
    return rpcapi.ComputeAgentAPI(transport, host, topic=topic,
                                  timeout=args.timeout)


def _run(args):
    api = _client(args)
    cmd = args.command
    if cmd == 'boot':
        spec = specargs.spec_from_args(args)
        if args.dry_run:
            plan = api.render_instance(None, spec)
            if args.format == 'json':
                return plan, 'mapping'
            return (plan['domain_xml'] + '\n' + output.table(
                plan['disks'], ('target', 'path', 'format', 'backing'))), None
        if args.wait:
            # A call returns once the guest runs (or with its error).
            return api.create_instance(None, spec), 'instance'
        # The dry run answers at once, so a bad spec is reported here
        # rather than lost in a cast's error notification.
        api.render_instance(None, spec)
        api.create_instance(None, spec, cast=True)
        return {'uuid': spec['uuid'], 'state': 'building'}, 'mapping'
    if cmd == 'list':
        return api.list_instances(None), 'instances'
    if cmd in SIMPLE:
        method, kind = SIMPLE[cmd]
        return getattr(api, method)(None, args.uuid), kind
    if cmd == 'console':
        return api.get_console_output(None, args.uuid, args.tail_lines,
                                      args.max_bytes), 'console'
    if cmd == 'reboot':
        return api.reboot_instance(None, args.uuid, hard=args.hard), \
            'instance'
    if cmd == 'stop':
        return api.stop_instance(None, args.uuid,
                                 timeout=args.stop_timeout), 'instance'
    if cmd == 'attach-disk':
        disk = specargs.disk_from_pairs(
            args.disk, device='cdrom' if args.cdrom else 'disk')
        return api.attach_disk(None, args.uuid, disk), 'instance'
    if cmd == 'detach-disk':
        return api.detach_disk(None, args.uuid, args.target), 'instance'
    if cmd == 'change-media':
        return api.change_media(None, args.uuid, args.target,
                                image=args.image), 'instance'
    if cmd == 'commit-disk':
        return api.commit_disk(None, args.uuid, args.target), 'instance'
    if cmd == 'host-status':
        return api.get_host_status(None), 'mapping'
    raise AssertionError('unhandled command %s' % cmd)


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        result, kind = _run(args)
    except exception.ComputeAgentException as e:
        # A remote error arrives as "<Name>_Remote" with the server's
        # traceback appended to str(); the message alone is for people.
        name = type(e).__name__
        if name.endswith('_Remote'):
            name = name[:-len('_Remote')]
        print('error: %s: %s' % (name, e.message), file=sys.stderr)
        return 1
    except specargs.SpecArgError as e:
        print('error: %s' % e, file=sys.stderr)
        return 2
    except oslo_messaging.RemoteError as e:
        print('error: %s: %s' % (e.exc_type, e.value), file=sys.stderr)
        return 1
    except oslo_messaging.MessagingTimeout:
        print('error: no answer from the agent within %d s (is it running '
              'and is the host right?)' % args.timeout, file=sys.stderr)
        return 1
    except (OSError, cfg.Error) as e:
        print('error: %s' % e, file=sys.stderr)
        return 1
    print(result if kind is None else output.render(result, kind,
                                                    args.format))
    return 0


if __name__ == '__main__':
    sys.exit(main())
