"""``computeagent``: run the agent on a compute node."""

import os
import signal
import sys
import threading

from oslo_log import log as logging

from computeagent import conf as agent_conf
from computeagent import exception
from computeagent import service
from computeagent import version

LOG = logging.getLogger(__name__)


def main(argv=None):
    conf = agent_conf.CONF
    agent_conf.register_opts(conf)
    logging.register_options(conf)
    conf(sys.argv[1:] if argv is None else argv, project='computeagent',
         version=version.version_string())
    logging.setup(conf, 'computeagent')

    try:
        agent = service.Service(conf)
        agent.start()
    except exception.DriverLoadError as error:
        LOG.error('%s', error)
        return 2
    except exception.ComputeAgentException as error:
        LOG.error('Cannot start: %s', error)
        return 1

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
