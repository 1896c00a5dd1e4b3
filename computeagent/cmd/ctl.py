"""``computeagent-ctl``: talk to the agent of a compute node over RPC.

Every request has a deadline, so the command never hangs: the broker and
the agent must answer within ``--timeout`` (30 s by default), and the
requests that wait for a guest or a build get that wait on top, said on
stderr before it begins. A failure is one line on stderr; the exit status
is 2 for a usage or configuration error, 1 for a failure at run time.
"""

import logging
import os
import sys

import oslo_messaging

from computeagent.api import fleet
from computeagent.api import tlscheck
from computeagent.cli import attach
from computeagent.cli import deadline
from computeagent.cli import errors
from computeagent.cli import output
from computeagent.cli import parser as cli_parser
from computeagent.cli import specargs
from computeagent import conf as agent_conf
from computeagent import exception
from computeagent.fleet import vhosts


def _boot_order(devices):
    """set-boot-order's words as the RPC's ``boot_order``.

    One word of boot letters only (``dc``) is the letter form: no disk
    target (vd*, sd*, hd*, fd*) or MAC address is made of them alone.
    """
    if len(devices) == 1 and set(devices[0]) <= set('cdna'):
        return devices[0]
    return devices


def _note(text):
    """Say on stderr what the command is waiting for, before it waits."""
    print(text, file=sys.stderr, flush=True)


class Session(object):
    """The requests of one command, each within its deadline.

    :param args: the parsed command line
    :param broker_log: the BrokerLog around the requests
    :raises: InvalidHostName for a host a per-host URL cannot name
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
        # overridden before. "{host}" in it: a vhost per host.
        template = args.transport_url or self.conf.fleet.host_transport_url
        self.fleet = fleet.Fleet(self.conf, template, topic=self.topic)
        #: the transport URL addressed; None: [DEFAULT] transport_url
        self.url = self.fleet.url(self.host)
        # Made now: a bad URL is a usage error before any request.
        self.fleet.transport(self.host)
        self._tls_checked = False

    def _check_tls(self, seconds):
        """At the first connection error: is it TLS, which no retry mends?

        :raises: tlscheck.TLSFailure, tlscheck.TLSConfigError
        """
        self._tls_checked = True
        tlscheck.check(self.conf, self.url,
                       timeout=max(1, min(tlscheck.TIMEOUT, seconds)))

    def timeout(self):
        """The --timeout given, or the command's default."""
        if self.args.timeout is not None:
            return self.args.timeout
        if self.args.command == 'boot' and self.args.wait:
            return cli_parser.DEFAULT_BOOT_TIMEOUT
        return cli_parser.DEFAULT_TIMEOUT

    def quick_timeout(self):
        """How long the quick request before a long one may take."""
        return min(self.timeout(), cli_parser.DEFAULT_TIMEOUT)

    def request(self, method, *args, seconds=None, what=None, **kwargs):
        """Call (or cast) an rpcapi method; give up after ``seconds``.

        :param seconds: the deadline; default timeout()
        :param what: what is under way, for a reply that comes too late
            (it may still finish on the agent)
        :raises: what the request raised, or DeadlinePassed with ``what``
        """
        seconds = self.timeout() if seconds is None else seconds
        api = self.fleet.api(self.host, timeout=seconds)
        try:
            return deadline.run(
                lambda: getattr(api, method)(None, *args, **kwargs),
                seconds, self.broker_log,
                diagnose=None if self._tls_checked else self._check_tls)
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
          '%s"' % (spec['uuid'], cli_parser.PROG, spec['uuid']))
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


def _interactive_console(session, args):
    """console --url prints a token; console --attach uses it at once."""
    grant = session.request('get_serial_console', args.uuid,
                            port=args.port)
    if args.url:
        return grant, 'mapping'

    banner = ('Connected to serial port %d (%s) of %s; leave with %s.'
              % (grant['port'], grant['type'], args.uuid,
                 attach.ESCAPE_NAME))
    why = attach.attach(grant['url'], ca_file=args.ca_file, banner=banner)
    _note('\nLeft the console of %s%s.' % (
        args.uuid, '' if why is None else ': %s' % why))
    return None, None


def _run(session, args):
    """Do the command.

    :returns: (result, kind): kind is output.render's, or None for text
    """
    cmd = args.command
    if cmd == 'boot':
        return _boot(session, args)
    if cmd == 'list':
        return session.request('list_instances'), 'instances'
    if cmd in cli_parser.SIMPLE:
        method, kind, _help = cli_parser.SIMPLE[cmd]
        what = None if cmd == 'show' else 'the %s of %s' % (cmd, args.uuid)
        return session.request(method, args.uuid, what=what), kind
    if cmd == 'console' and (args.attach or args.url):
        return _interactive_console(session, args)
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
    if cmd == 'set-boot-order':
        return session.request(
            'set_boot_order', args.uuid, _boot_order(args.devices),
            what='the boot order of %s' % args.uuid), 'instance'
    if cmd == 'migrate':
        return session.request(
            'migrate_instance', args.uuid, args.dest_host,
            what='the migration of %s to %s' % (args.uuid, args.dest_host)
        ), 'instance'
    if cmd == 'host-status':
        return session.request('get_host_status'), 'mapping'
    raise AssertionError('unhandled command %s' % cmd)


def _late(error, session):
    """The line for a request that passed its deadline."""
    if error.broker_error:
        return ('cannot reach the message broker (%s) within %d s: %s'
                % (errors.broker_name(session.conf, session.url),
                   error.seconds, error.broker_error))
    line = ('no answer from the agent of host %r (topic %r) within %d s'
            % (session.host, session.topic, error.seconds))
    if error.what:
        return line + '; %s may still be under way there' % error.what
    return line + ' (is it running, and is the host right?)'


def _fail(message, code):
    print('%s: error: %s' % (cli_parser.PROG, message), file=sys.stderr)
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
    args = cli_parser.parse_args(argv)
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
    except (specargs.SpecArgError, vhosts.InvalidHostName) as e:
        return _fail(str(e), errors.USAGE)
    except oslo_messaging.RemoteError as e:
        return _fail('%s: %s' % (e.exc_type, e.value), errors.FAILURE)
    except deadline.DeadlinePassed as e:
        return _fail(_late(e, session), errors.FAILURE)
    except attach.AttachError as e:
        return _fail(str(e), errors.FAILURE)
    except OSError as e:
        if session is None or e.filename is not None:
            # A file named on the command line (--spec) or in the
            # configuration.
            return _fail(str(e), errors.USAGE)
        described = errors.describe(e, session.conf, session.url)
        return _fail(described[0] if described else str(e),
                     errors.FAILURE)
    except Exception as e:
        conf = session.conf if session else None
        url = session.url if session else args.transport_url
        described = errors.describe(e, conf, url)
        if described is None:
            raise
        return _fail(*described)
    finally:
        if debug_handler is not None:
            logging.getLogger().removeHandler(debug_handler)
    if result is not None:
        print(result if kind is None else output.render(result, kind,
                                                        args.format))
    return 0


if __name__ == '__main__':
    sys.exit(main())
