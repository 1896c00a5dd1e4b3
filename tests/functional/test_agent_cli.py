"""The agent's command line when it cannot start: one line, exit 2 or 1."""

import os
import subprocess

from tests.functional import base
from tests.functional import fixtures as ft_fixtures


class TestAgentStartFailures(base.FunctionalTestCase):

    def run_agent(self, *args):
        """:returns: (exit status, the one line on stderr, stdout)"""
        result = subprocess.run(
            [ft_fixtures.console_script('computeagent')] + list(args),
            capture_output=True, text=True, timeout=120)
        self.assertNotIn('Traceback', result.stdout + result.stderr)
        self.assertEqual(1, len(result.stderr.splitlines()), result.stderr)
        return result.returncode, result.stderr.strip(), result.stdout

    def agent_config(self, **defaults):
        agent = self.useFixture(ft_fixtures.AgentFixture('fake',
                                                         start=False))
        with open(agent.config_file, 'a') as f:
            for name, value in defaults.items():
                # A later value of the same option wins in oslo.config.
                f.write('[DEFAULT]\n%s = %s\n' % (name, value))
        return agent

    def test_a_missing_config_file(self):
        self.assertEqual(
            (2, 'computeagent: error: configuration: Failed to find some '
                'config files: /nonexistent/computeagent.conf', ''),
            self.run_agent('--config-file',
                           '/nonexistent/computeagent.conf'))

    def test_an_unknown_option(self):
        code, error, _out = self.run_agent('--frobnicate')
        self.assertEqual((2, 'computeagent: error: unrecognized arguments: '
                             '--frobnicate (see computeagent --help)'),
                         (code, error))

    def test_a_bad_option_value_stops_it_before_anything_starts(self):
        agent = self.agent_config(rpc_workers='lots')
        code, error, out = self.run_agent('--config-file',
                                          agent.config_file)
        self.assertEqual(2, code)
        self.assertEqual("computeagent: error: configuration: Value for "
                         "option rpc_workers in %s is not valid: invalid "
                         "literal for int() with base 10: 'lots'"
                         % agent.config_file, error)
        self.assertFalse(os.path.exists(agent.instances_path))

    def test_a_refused_broker_login(self):
        agent = self.agent_config(transport_url=ft_fixtures.BROKER.replace(
            'guest:guest@', 'guest:wrong@'))
        code, error, out = self.run_agent('--config-file',
                                          agent.config_file)
        self.assertEqual((1, 'computeagent: error: the message broker '
                             '(127.0.0.1:5672, user guest) refused the '
                             'login: check the user and password of the '
                             'transport URL'), (code, error))
        # Logged too (without log_file, the log is stdout).
        self.assertIn('ERROR computeagent.cmd.agent', out)
        self.assertIn('Cannot start: the message broker', out)
