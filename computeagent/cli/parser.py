"""computeagent-ctl's command line: its options, commands and their help.

Global options are accepted before the command and after it; defaults
are shown in ``--help``; a usage error is one line on stderr and exit 2.
"""

import argparse

from computeagent.cli import errors
from computeagent.cli import output
from computeagent.virt import consolelog

PROG = 'computeagent-ctl'

#: seconds to wait for the broker and for the agent's answer
DEFAULT_TIMEOUT = 30
#: seconds ``boot --wait`` waits for the instance: images may have to be
#: fetched and the create may wait for a build slot first
DEFAULT_BOOT_TIMEOUT = 600
#: stop_instance's own default (docs/api.md)
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
             'rabbit://guest:guest@localhost:5672/; "{host}" in it stands '
             'for --host, as in a vhost per host: '
             'rabbit://controller:PASSWORD@broker:5672/computeagent-{host} '
             '(default: [fleet] host_transport_url, else [DEFAULT] '
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


def make_parser():
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
                      help='a cdrom: image=NAME or host_device=PATH (a '
                           'host drive [disk] host_cdrom_devices lists; '
                           'an empty drive without either), bus, '
                           'boot_index')
    boot.add_argument('--floppy', action='append', metavar='KEY=VALUE,...',
                      help='a floppy (after the disks and cdroms): '
                           'image=NAME (a blank 1.44 MB one without), '
                           'readonly, boot_index')
    boot.add_argument('--serial', action='append', metavar='KEY=VALUE,...',
                      help='a serial port, port 0 first: type=file|pty|'
                           'unix|tcp|udp|pipe|null, log, host, port, '
                           'bind_host, bind_port (default: one file port, '
                           'console.log)')
    boot.add_argument('--parallel', action='append',
                      metavar='KEY=VALUE,...',
                      help='a parallel port, LPT1 first: the keys of '
                           '--serial (default: none)')
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
    boot.add_argument('--boot-order', dest='boot_order', metavar='LETTERS',
                      help="QEMU's -boot order: c (disk), d (cdrom), a "
                           "(floppy), n (network), e.g. dc; instead of "
                           "any boot_index")
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
                          "show the guest's serial console output; with "
                          "--attach, type into it (an interactive "
                          "console, through the node's console proxy)")
    console.add_argument('uuid', help="the instance's uuid")
    interactive = console.add_mutually_exclusive_group()
    interactive.add_argument(
        '--attach', action='store_true',
        help='join this terminal to the serial port (a pty, unix or tcp '
             'port of a running or paused guest) in raw mode: every key '
             'goes to the guest; Ctrl-] leaves')
    interactive.add_argument(
        '--url', action='store_true',
        help="print the console proxy's URL and a one-time token for the "
             'serial port, for another websocket client')
    console.add_argument('--port', type=_whole(0), default=0,
                         metavar='N',
                         help='the serial port of --attach and --url '
                              '(default: 0)')
    console.add_argument('--ca-file', metavar='FILE',
                         help='CA certificates to trust for a wss:// '
                              'console proxy (default: the system\'s)')
    console.add_argument('--tail', type=_whole(0), dest='tail_lines',
                         metavar='LINES',
                         help='only the last LINES lines (default: all '
                              'within --max-bytes)')
    console.add_argument('--max-bytes', type=_whole(1),
                         default=consolelog.DEFAULT_MAX_BYTES,
                         metavar='BYTES',
                         help='at most the last BYTES bytes (default: '
                              '%d)' % consolelog.DEFAULT_MAX_BYTES)
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
    migrate = _subcommand(
        sub, 'migrate', 'move a running or paused instance to another '
                        'host, live (the hosts share their instances '
                        'path); --host names the host it is on')
    migrate.add_argument('uuid', help="the instance's uuid")
    migrate.add_argument('dest_host', metavar='DEST_HOST',
                         help='the host to move it to')
    media = _subcommand(sub, 'change-media', 'insert or eject a cdrom')
    media.add_argument('uuid', help="the instance's uuid")
    media.add_argument('target', help="the cdrom's target, e.g. sda")
    media.add_argument('--image', help='image to insert (omit to eject)')
    commit = _subcommand(sub, 'commit-disk', "merge a snapshot disk's "
                         "changes into its file")
    commit.add_argument('uuid', help="the instance's uuid")
    commit.add_argument('target', nargs='?',
                        help="the snapshot disk's target; omitted: every "
                             "snapshot disk of the instance (API 1.3)")
    boot_order = _subcommand(
        sub, 'set-boot-order', "set the order of the guest's next boot "
                               "(API 1.3)")
    boot_order.add_argument('uuid', help="the instance's uuid")
    boot_order.add_argument('devices', nargs='+', metavar='DEVICE',
                            help='disk targets (vdb) and nic MAC addresses, '
                                 'first to boot first; the others do not '
                                 'boot. Or one word of boot letters, as '
                                 '-boot order= takes them (dc: cdrom, then '
                                 'disk; c d n a)')
    _subcommand(sub, 'host-status', "show the compute node's resources")
    return parser


def parse_args(argv):
    """The command line's arguments, with the options after the command.

    :raises: SystemExit(2) on a usage error, after one line on stderr
    """
    args = make_parser().parse_args(argv)
    args.config_file = (args.config_file +
                        getattr(args, 'late_config_file', []))
    return args
