"""``computeagent-ctl``: talk to the agent of a compute node over RPC.

Every request has a deadline, so the command never hangs: the broker and
the agent must answer within ``--timeout`` (30 s by default), and the
requests that wait for a guest or a build get that wait on top, said on
stderr before it begins. A failure is one line on stderr; the exit status
is 2 for a usage or configuration error, 1 for a failure at run time.
"""

import argparse
import logging
import os
import sys

import oslo_messaging

from computeagent.api import rpcapi
from computeagent.cli import deadline
from computeagent.cli import errors
from computeagent.cli import output
from computeagent.cli import specargs
from computeagent import conf as agent_conf
from computeagent import exception

PROG = 'computeagent-ctl'

#: seconds to wait for the broker and for the agent's answer
DEFAULT_TIMEOUT = 30
#: seconds ``boot --wait`` waits for the instance: images may have to be
#: fetched and the create may wait for a build slot first
DEFAULT_BOOT_TIMEOUT = 600
#: stop_instance's own default (API.md)
DEFAULT_STOP_TIMEOUT = 60

# command -> (rpcapi method, result kind, help) for commands taking a
# uuid only; all but show change the instance
SIMPLE = {
    'show': ('get_instance', 'instance', "show an instance's record"),
    'delete': ('delete_instance', 'mapping',
               'delete an instance: its guest is forced off and its disks '
               'and console logs are removed'),
    'start': ('start_instance', 'instance', 'start a stopped instance'),
    'pause': ('pause_instance', 'instance',
              'pause an instance (its memory stays in the host)'),
    'unpause': ('unpause_instance', 'instance', 'unpause an instance'),
    'suspend': ('suspend_instance', 'instance',
                "suspend an instance: its memory is saved to disk (a large "
                "guest may need a longer --timeout)"),
    'resume': ('resume_instance', 'instance',
               'resume a suspended instance'),
}

TIMEOUT_HELP = (
    'seconds to wait for the message broker and for the agent\'s answer '
    '(default: %d; boot --wait: %d). stop and a soft reboot also wait '
    'for the guest: see their --help. Before stop, reboot and boot, the '
    'agent must answer a quick request within %d s (or this, if less). '
    'After the stop subcommand, --timeout is the guest\'s shutdown time '
    'instead' % (DEFAULT_TIMEOUT, DEFAULT_BOOT_TIMEOUT, DEFAULT_TIMEOUT))


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line."""

    def error(self, message):
        self.exit(errors.USAGE, '%s: error: %s (see %s --help)\n'
                  % (self.prog, message, self.prog))


def _whole(minimum):
    """An argparse type: a whole number, at least ``minimum``."""
    def convert(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                'expected a whole number, not %r' % text)
        if value < minimum:
            raise argparse.ArgumentTypeError(
                'must be at least %d, not %d' % (minimum, value))
        return value
    return convert


def _global_options(parser, late=False, skip=()):
    """The options that may come before or after the subcommand.

    :param late: True on a subcommand's parser; there an option's
        default is to leave alone what was given before the subcommand
    :param skip: options the subcommand has a meaning of its own for
    """
    def default(value):
        return argparse.SUPPRESS if late else value
    parser.add_argument(
        '--config-file', action='append', metavar='PATH',
        dest='late_config_file' if late else 'config_file',
        default=default([]),
        help='configuration file to read [DEFAULT] transport_url, host '
             'and rpc_topic from, such as the agent\'s own; may be given '
             'more than once (default: the usual places, '
             '/etc/computeagent/computeagent.conf first)')
    parser.add_argument(
        '--transport-url', metavar='URL', default=default(None),
        help='oslo.messaging transport URL, e.g. '
             'rabbit://guest:guest@localhost:5672/ (default: [DEFAULT] '
             'transport_url)')
    parser.add_argument(
        '--host', metavar='NODE', default=default(None),
        help='compute node to address (default: [DEFAULT] host, which '
             'defaults to this machine\'s host name)')
    parser.add_argument(
        '--topic', default=default(None),
        help='RPC topic the agents serve (default: [DEFAULT] rpc_topic, '
             'computeagent)')
    if 'timeout' not in skip:
        parser.add_argument('--timeout', type=_whole(1),
                            metavar='SECONDS', default=default(None),
                            help=TIMEOUT_HELP)
    parser.add_argument(
        '--format', choices=('table', 'json'), default=default('table'),
        help='output: tables at most %d columns wide, or JSON with every '
             'field (default: table)' % output.MAX_WIDTH)
    parser.add_argument(
        '--debug', action='store_true', default=default(False),
        help="show oslo.messaging's log on stderr")


def _subcommand(sub, name, help, skip=()):
    parser = sub.add_parser(name, help=help, description=help)
    _global_options(parser, late=True, skip=skip)
    return parser


def _parser():
    parser = _Parser(
        prog=PROG,
        description='Control the computeagent of a compute node. The '
                    'options below may also follow the subcommand.',
        epilog='Exit status: 0 done, 1 failed (the agent refused, the '
               'broker could not be reached, no answer in time), 2 usage '
               'or configuration error.')
    _global_options(parser)
    sub = parser.add_subparsers(dest='command', required=True,
                                metavar='COMMAND')

    boot = _subcommand(sub, 'boot', 'create an instance')
    boot.add_argument('--spec', metavar='FILE',
                      help='JSON or YAML instance spec file; flags below '
                           'add to or override it')
    boot.add_argument('--uuid',
                      help="the instance's uuid (default: a new random "
                           "one; the same uuid and spec sent again create "
                           "one instance)")
    boot.add_argument('--name', help='display name (default: the uuid)')
    boot.add_argument('--vcpus', type=int,
                      help='virtual CPUs (default: 1)')
    boot.add_argument('--memory-mb', dest='memory_mb', type=int,
                      metavar='MB', help='memory in MiB (default: 128)')
    boot.add_argument('--disk', action='append', metavar='KEY=VALUE,...',
                      help='a disk, in order, e.g. image=demo.img,'
                           'boot_index=1 or blank,size_mb=64; keys: '
                           'image=NAME|blank, bus, format, size_mb, '
                           'boot_index, cache, aio, iothread, discard, '
                           'snapshot, readonly, serial, iotune.KEY')
    boot.add_argument('--cdrom', action='append', metavar='KEY=VALUE,...',
                      help='a cdrom: image=NAME (an empty drive '
                           'without), bus, boot_index')
    boot.add_argument('--serial', action='append', metavar='KEY=VALUE,...',
                      help='a serial port, port 0 first: type=file|pty|'
                           'unix|tcp|null, log, host, port (default: one '
                           'file port, console.log)')
    boot.add_argument('--nic', action='append', metavar='KEY=VALUE,...',
                      help='a network interface: type=user|network|bridge, '
                           'network=NAME, bridge=NAME, model=virtio|e1000|'
                           'rtl8139, mac, boot_index (default: none)')
    boot.add_argument('--video', choices=('none', 'vga', 'cirrus',
                                          'virtio'),
                      help='video device (default: none)')
    boot.add_argument('--vnc', metavar='ADDRESS',
                      help='VNC graphics listening on ADDRESS')
    boot.add_argument('--boot-menu', action='store_true',
                      help="show the firmware's boot menu")
    boot.add_argument('--metadata', action='append', metavar='KEY=VALUE',
                      help='stored with the instance and shown by show')
    boot.add_argument('--wait', action='store_true',
                      help='wait until the instance runs (up to --timeout, '
                           'default %d s) and print its record. Without '
                           '--wait, the agent first checks the spec (a dry '
                           'run, answered within --timeout); then the '
                           'create is sent without waiting for it (a '
                           'cast) and its uuid printed: follow it with '
                           '"show UUID" (building, then running; a create '
                           'that failed leaves no instance)'
                           % DEFAULT_BOOT_TIMEOUT)
    boot.add_argument('--dry-run', action='store_true',
                      help='show the domain XML and disk plan only; '
                           'nothing is created')

    _subcommand(sub, 'list', 'list the instances of the node')
    for name, (_method, _kind, text) in SIMPLE.items():
        _subcommand(sub, name, text).add_argument(
            'uuid', help="the instance's uuid")
    console = _subcommand(sub, 'console',
                          "show the guest's serial console output")
    console.add_argument('uuid', help="the instance's uuid")
    console.add_argument('--tail', type=_whole(0), dest='tail_lines',
                         metavar='LINES',
                         help='only the last LINES lines (default: all '
                              'within --max-bytes)')
    console.add_argument('--max-bytes', type=_whole(1), default=102400,
                         metavar='BYTES',
                         help='at most the last BYTES bytes (default: '
                              '102400)')
    reboot = _subcommand(sub, 'reboot', 'reboot an instance')
    reboot.add_argument('uuid', help="the instance's uuid")
    reboot.add_argument('--hard', action='store_true',
                        help='reset the guest at once, like its reset '
                             'button (a stopped guest is started). '
                             'Without --hard the guest is asked to '
                             'reboot (ACPI) and reset only if it has not '
                             'rebooted within the agent\'s [libvirt] '
                             'soft_reboot_timeout (default 120 s), so a '
                             'guest that ignores ACPI takes that long')
    stop = _subcommand(sub, 'stop', 'shut an instance down',
                       skip=('timeout',))
    stop.add_argument('uuid', help="the instance's uuid")
    stop.add_argument('--timeout', dest='stop_timeout', type=_whole(0),
                      default=DEFAULT_STOP_TIMEOUT, metavar='SECONDS',
                      help='seconds the guest has to shut down after the '
                           'ACPI power button before it is forced off; 0 '
                           'forces it off at once (default: %d). The '
                           'command waits this long plus the --timeout '
                           'given before "stop" (default %d)'
                           % (DEFAULT_STOP_TIMEOUT, DEFAULT_TIMEOUT))
    attach = _subcommand(sub, 'attach-disk',
                         'attach a disk (hot-plugged when running)')
    attach.add_argument('uuid', help="the instance's uuid")
    attach.add_argument('disk', metavar='KEY=VALUE,...',
                        help='the disk, as boot --disk (or --cdrom)')
    attach.add_argument('--cdrom', action='store_true',
                        help='the disk is a cdrom')
    detach = _subcommand(sub, 'detach-disk', 'detach a disk')
    detach.add_argument('uuid', help="the instance's uuid")
    detach.add_argument('target', help="the disk's target, e.g. vdb")
    media = _subcommand(sub, 'change-media', 'insert or eject a cdrom')
    media.add_argument('uuid', help="the instance's uuid")
    media.add_argument('target', help="the cdrom's target, e.g. sda")
    media.add_argument('--image', help='image to insert (omit to eject)')
    commit = _subcommand(sub, 'commit-disk', "merge a snapshot disk's "
                         "changes into its file")
    commit.add_argument('uuid', help="the instance's uuid")
    commit.add_argument('target', help="the snapshot disk's target")
    _subcommand(sub, 'host-status', "show the compute node's resources")
    return parser


def parse_args(argv):
    """The command line's arguments, with the options after the command.

    :raises: SystemExit(2) on a usage error, after one line on stderr
    """
    args = _parser().parse_args(argv)
    args.config_file = (args.config_file +
                        getattr(args, 'late_config_file', []))
    return args


def _note(text):
    """Say on stderr what the command is waiting for, before it waits."""
    print(text, file=sys.stderr, flush=True)


class Session(object):
    """The requests of one command, each within its deadline.

    :param args: the parsed command line
    :param broker_log: the BrokerLog around the requests
    :raises: UsageError for a configuration that cannot be used
    """

    def __init__(self, args, broker_log):
        self.args = args
        self.broker_log = broker_log
        self.conf = agent_conf.CONF
        agent_conf.register_opts(self.conf)
        # Without --config-file, oslo.config looks in the usual places
        # (/etc/computeagent/computeagent.conf, ...) as the agent does.
        self.conf(['--config-file=%s' % f for f in args.config_file],
                  project='computeagent')
        self.host = args.host or self.conf.host
        self.topic = args.topic or self.conf.rpc_topic
        # Handed to oslo.messaging as the URL itself: its transport_url
        # option exists only once a transport was made, so it cannot be
        # overridden before.
        self.transport = rpcapi.get_transport(self.conf,
                                              url=args.transport_url)

    def timeout(self):
        """The --timeout given, or the command's default."""
        if self.args.timeout is not None:
            return self.args.timeout
        if self.args.command == 'boot' and self.args.wait:
            return DEFAULT_BOOT_TIMEOUT
        return DEFAULT_TIMEOUT

    def quick_timeout(self):
        """How long the quick request before a long one may take."""
        return min(self.timeout(), DEFAULT_TIMEOUT)

    def request(self, method, *args, seconds=None, what=None, **kwargs):
        """Call (or cast) an rpcapi method; give up after ``seconds``.

        :param seconds: the deadline; default timeout()
        :param what: what is under way, for a reply that comes too late
            (it may still finish on the agent)
        :raises: what the request raised, or DeadlinePassed with ``what``
        """
        seconds = self.timeout() if seconds is None else seconds
        api = rpcapi.ComputeAgentAPI(self.transport, self.host,
                                     topic=self.topic, timeout=seconds)
        try:
            return deadline.run(
                lambda: getattr(api, method)(None, *args, **kwargs),
                seconds, self.broker_log)
        except deadline.DeadlinePassed as error:
            raise deadline.DeadlinePassed(seconds, error.broker_error,
                                          what)
        except oslo_messaging.MessagingTimeout:
            # The reply's own timeout, at about the same moment.
            raise deadline.DeadlinePassed(seconds, None, what)

    def record(self, uuid):
        """The instance's record, asked for before a long request."""
        return self.request('get_instance', uuid,
                            seconds=self.quick_timeout())


def _boot(session, args):
    spec = specargs.spec_from_args(args)
    # A dry run answers at once: a bad spec or a missing image is told
    # now, and an unreachable broker or agent within the quick timeout,
    # before a long wait or a cast whose failure nobody would see.
    plan = session.request('render_instance', spec,
                           seconds=session.quick_timeout())
    if args.dry_run:
        if args.format == 'json':
            return plan, 'mapping'
        return (plan['domain_xml'] + '\n' + output.table(
            plan['disks'], ('target', 'path', 'format', 'backing'))), None
    if args.wait:
        seconds = session.timeout()
        _note('waiting up to %d s for the agent to build and start '
              'instance %s' % (seconds, spec['uuid']))
        # A call returns once the guest runs (or with its error).
        return session.request(
            'create_instance', spec, seconds=seconds,
            what='the create of %s' % spec['uuid']), 'instance'
    session.request('create_instance', spec, cast=True,
                    seconds=session.quick_timeout())
    _note('create of %s sent, not waited for: follow it with "%s show '
          '%s"' % (spec['uuid'], PROG, spec['uuid']))
    return {'uuid': spec['uuid'], 'create': 'sent'}, 'mapping'


def _stop(session, args):
    seconds = args.stop_timeout
    if seconds > 0 and session.record(args.uuid)['state'] == 'running':
        _note('waiting up to %d s for the guest to shut down (ACPI); '
              '--timeout 0 forces it off' % seconds)
    return session.request(
        'stop_instance', args.uuid, timeout=seconds,
        seconds=seconds + session.timeout(),
        what='the stop of %s' % args.uuid), 'instance'


def _reboot(session, args):
    seconds = session.timeout()
    if not args.hard:
        # The agent's own setting; the configuration read here is
        # usually the agent's, else this is the default.
        soft = session.conf.libvirt.soft_reboot_timeout
        seconds += soft
        if soft and session.record(args.uuid)['state'] == 'running':
            _note('waiting up to %d s for the guest to reboot (ACPI) '
                  'before the agent resets it; --hard resets it at once'
                  % soft)
    return session.request(
        'reboot_instance', args.uuid, hard=args.hard, seconds=seconds,
        what='the reboot of %s' % args.uuid), 'instance'


def _run(session, args):
    """Do the command.

    :returns: (result, kind): kind is output.render's, or None for text
    """
    cmd = args.command
    if cmd == 'boot':
        return _boot(session, args)
    if cmd == 'list':
        return session.request('list_instances'), 'instances'
    if cmd in SIMPLE:
        method, kind, _help = SIMPLE[cmd]
        what = None if cmd == 'show' else 'the %s of %s' % (cmd, args.uuid)
        return session.request(method, args.uuid, what=what), kind
    if cmd == 'console':
        return session.request('get_console_output', args.uuid,
                               args.tail_lines, args.max_bytes), 'console'
    if cmd == 'reboot':
        return _reboot(session, args)
    if cmd == 'stop':
        return _stop(session, args)
    if cmd == 'attach-disk':
        disk = specargs.disk_from_pairs(
            args.disk, device='cdrom' if args.cdrom else 'disk')
        return session.request(
            'attach_disk', args.uuid, disk,
            what='the attach to %s' % args.uuid), 'instance'
    if cmd == 'detach-disk':
        return session.request(
            'detach_disk', args.uuid, args.target,
            what='the detach from %s' % args.uuid), 'instance'
    if cmd == 'change-media':
        return session.request(
            'change_media', args.uuid, args.target, image=args.image,
            what='the media change of %s' % args.uuid), 'instance'
    if cmd == 'commit-disk':
        return session.request(
            'commit_disk', args.uuid, args.target,
            what='the commit of %s' % args.uuid), 'instance'
    if cmd == 'host-status':
        return session.request('get_host_status'), 'mapping'
    raise AssertionError('unhandled command %s' % cmd)


def _late(error, session):
    """The line for a request that passed its deadline."""
    if error.broker_error:
        return ('cannot reach the message broker (%s) within %d s: %s'
                % (errors.broker_name(session.conf,
                                      session.args.transport_url),
                   error.seconds, error.broker_error))
    line = ('no answer from the agent of host %r (topic %r) within %d s'
            % (session.host, session.topic, error.seconds))
    if error.what:
        return line + '; %s may still be under way there' % error.what
    return line + ' (is it running, and is the host right?)'


def _fail(message, code):
    print('%s: error: %s' % (PROG, message), file=sys.stderr)
    return code


def main(argv=None):
    """Run the command line.

    :param argv: the arguments (default: sys.argv[1:], and then the
        process ends here at once if a request was given up on)
    :returns: the exit status
    :raises: SystemExit on a usage error and for --help
    """
    code = _main(sys.argv[1:] if argv is None else argv)
    if argv is None and deadline.abandoned():
        # The request given up on may be asleep between connection
        # attempts inside kombu, and the interpreter's shutdown waits
        # for it to wake (a second or more): nothing is left to do.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv):
    args = parse_args(argv)
    debug_handler = None
    if args.debug:
        debug_handler = logging.StreamHandler(sys.stderr)
        logging.getLogger().addHandler(debug_handler)
        logging.getLogger().setLevel(logging.DEBUG)
    session = None
    try:
        with deadline.BrokerLog(show=args.debug) as broker_log:
            session = Session(args, broker_log)
            result, kind = _run(session, args)
    except exception.ComputeAgentException as e:
        # A remote error arrives as "<Name>_Remote" with the server's
        # traceback appended to str(); the message alone is for people.
        name = type(e).__name__
        if name.endswith('_Remote'):
            name = name[:-len('_Remote')]
        return _fail('%s: %s' % (name, e.message), errors.FAILURE)
    except specargs.SpecArgError as e:
        return _fail(str(e), errors.USAGE)
    except oslo_messaging.RemoteError as e:
        return _fail('%s: %s' % (e.exc_type, e.value), errors.FAILURE)
    except deadline.DeadlinePassed as e:
        return _fail(_late(e, session), errors.FAILURE)
    except OSError as e:
        if session is None or e.filename is not None:
            # A file named on the command line (--spec) or in the
            # configuration.
            return _fail(str(e), errors.USAGE)
        described = errors.describe(e, session.conf, args.transport_url)
        return _fail(described[0] if described else str(e),
                     errors.FAILURE)
    except Exception as e:
        conf = session.conf if session else None
        described = errors.describe(e, conf, args.transport_url)
        if described is None:
            raise
        return _fail(*described)
    finally:
        if debug_handler is not None:
            logging.getLogger().removeHandler(debug_handler)
    print(result if kind is None else output.render(result, kind,
                                                    args.format))
    return 0


if __name__ == '__main__':
    sys.exit(main())
