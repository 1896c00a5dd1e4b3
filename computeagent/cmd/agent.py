"""``computeagent``: run the agent on a compute node."""

import os
import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from computeagent.api import tlscheck
from computeagent.cli import errors
from computeagent.cmd import options
from computeagent import exception
from computeagent import service

LOG = logging.getLogger(__name__)

#: the console script's name, as its errors name it
PROG = 'computeagent'


def _fail(message, code):
    """End with one line on stderr (and in the log, once it is set up)."""
    return options.fail(PROG, message, code)


def _check_values(conf):
    """Read every option once, so that a bad value stops the agent now.

    oslo.config converts a value when it is first read: without this,
    a bad one would be found half-way through starting, after the
    hypervisor was connected and recovery ran.

    :raises: cfg.Error (ConfigFileValueError) for the first bad value
    """
    for name in list(conf):
        value = getattr(conf, name)
        if isinstance(value, cfg.ConfigOpts.GroupAttr):
            for option in list(value):
                getattr(value, option)


def _check_tls(conf):
    """Fail now for a TLS problem with the broker, not retry it for ever.

    The RPC server's first connection, in Service.start, retries any
    failure, a refused certificate as a broker that is down; a TLS
    problem found here (computeagent.api.tlscheck) ends the start with
    its one line, while a broker out of reach is waited for as before.

    :raises: tlscheck.TLSFailure, tlscheck.TLSConfigError
    """
    tlscheck.check(conf)
    notifications = conf.oslo_messaging_notifications.transport_url
    if notifications and notifications != conf.transport_url:
        tlscheck.check(conf, notifications)


def _start(conf):
    """Make and start the service.

    :returns: the started Service
    :raises: what starting raised, after stopping what was started
    """
    agent = service.Service(conf)
    # Before anything starts; the transports are made, nothing is
    # connected yet.
    _check_tls(conf)
    try:
        agent.start()
    except BaseException:
        # The driver may be connected and threads started: leave nothing
        # behind that would keep the process from ending.
        try:
            agent.stop()
        except Exception:
            LOG.debug('Stopping after a failed start failed too',
                      exc_info=True)
        raise
    return agent


def main(argv=None):
    """Run the agent until SIGTERM or SIGINT.

    :param argv: the arguments (default: sys.argv[1:])
    :returns: the exit status: 0 stopped, 1 failed at run time (the broker
        refused or could not be reached, TLS with it failed, the
        hypervisor failed), 2 a usage or configuration error
    """
    try:
        conf = options.parse(argv, PROG)
        _check_values(conf)
        logging.setup(conf, 'computeagent')
    except options.UsageError as error:
        return _fail(str(error), errors.USAGE)
    except cfg.Error as error:
        return _fail(errors.describe(error)[0], errors.USAGE)

    try:
        agent = _start(conf)
    except exception.DriverLoadError as error:
        LOG.error('%s', error)
        return _fail(str(error), errors.USAGE)
    except exception.ComputeAgentException as error:
        LOG.error('Cannot start: %s', error)
        return _fail('cannot start: %s' % error, errors.FAILURE)
    except Exception as error:
        # A bad option value is found when it is first read, a TLS
        # problem by _check_tls, and the broker's refusal of the login
        # when the server first connects; anything else is a bug, whose
        # traceback is wanted.
        described = errors.describe(error, conf)
        if described is None:
            raise
        LOG.error('Cannot start: %s', described[0])
        return _fail(*described)

    stop_requested = threading.Event()

    def _on_signal(signum, frame):
        LOG.info('Received %s', signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    while not stop_requested.wait(3600):
        pass

    # Requests in flight may finish; past the grace period, leave anyway
    # (a half-done create is recovered at the next start).
    stopper = threading.Thread(target=agent.stop, daemon=True)
    stopper.start()
    stopper.join(conf.graceful_shutdown_timeout or None)
    if stopper.is_alive():
        LOG.warning('Requests still running after %d s; exiting anyway',
                    conf.graceful_shutdown_timeout)
        os._exit(1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
