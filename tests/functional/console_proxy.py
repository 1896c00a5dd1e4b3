"""The console proxy of an agent, run as its console script.

``computeagent-console-proxy`` reads the agent's own configuration file,
as on a compute node, so it shares the agent's token directory and
``[console]`` options (the test puts ``proxy_port`` and
``proxy_base_url`` there).
"""

import os
import socket
import subprocess
import time

import fixtures

from tests.functional import fixtures as ft_fixtures

_POLL = 0.05


def console_options(port, **extra):
    """``{"console": ...}`` options for an agent whose proxy is on ``port``.

    :param extra: further ``[console]`` options, e.g. ``token_ttl``
    """
    options = {'proxy_host': '127.0.0.1', 'proxy_port': port,
               'proxy_base_url': 'ws://127.0.0.1:%d/' % port}
    options.update(extra)
    return {'console': options}


class ConsoleProxyFixture(fixtures.Fixture):
    """The proxy of ``agent`` (an AgentFixture), listening once set up.

    :param agent: its ``options['console']`` name the port
    """

    def __init__(self, agent, timeout=60):
        super().__init__()
        self.agent = agent
        self.timeout = timeout

    def _setUp(self):
        self.port = int(self.agent.options['console']['proxy_port'])
        self.log_file = os.path.join(self.agent.dir, 'console-proxy.log')
        log = open(self.log_file, 'ab')
        self.addCleanup(log.close)
        self.process = subprocess.Popen(
            [ft_fixtures.console_script('computeagent-console-proxy'),
             '--config-file', self.agent.config_file],
            stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(self._stop)
        self._wait_listening()

    def _wait_listening(self):
        deadline = time.monotonic() + self.timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError('the console proxy ended (%s):\n%s'
                                     % (self.process.returncode,
                                        self.log_tail()))
            try:
                socket.create_connection(('127.0.0.1', self.port),
                                         timeout=1).close()
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError('the console proxy does not listen '
                                     'on %d:\n%s' % (self.port,
                                                     self.log_tail()))
            time.sleep(_POLL)

    def _stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines=60):
        return ft_fixtures.file_tail(self.log_file, lines)
