"""computeagent-broker's command line (its work is in the functional tests,
tests/functional/test_fleet_isolation.py, against a real RabbitMQ node)."""

import io

import fixtures

from computeagent.cmd import broker
from tests import base


class TestCommandLine(base.TestCase):

    def run_main(self, *argv):
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        try:
            code = broker.main(list(argv))
        except SystemExit as done:
            code = done.code
        return code, err.getvalue()

    def test_a_command_is_required(self):
        code, err = self.run_main()
        self.assertEqual(2, code)
        self.assertIn('computeagent-broker: error:', err)

    def test_password_file_and_certificate_only_exclude_each_other(self):
        code, err = self.run_main('add-host', 'node1', '--password-file',
                                  '/dev/null', '--certificate-only')
        self.assertEqual(2, code)
        self.assertIn('not allowed with', err)

    def test_an_empty_password_file_is_refused_before_the_broker(self):
        path = self.tmp + '/empty'
        open(path, 'w').close()
        code, err = self.run_main('add-controller', 'ctrl',
                                  '--password-file', path)
        self.assertEqual(2, code)
        self.assertIn('holds no password', err)

    def test_a_bad_host_name_is_a_usage_error(self):
        code, err = self.run_main('add-host', 'node/1')
        self.assertEqual(2, code)
        self.assertIn('not a host name', err)

    def test_agent_configuration_names_the_hosts_vhost(self):
        text = broker.agent_configuration('agents', 'node1')
        self.assertIn('host = node1\n', text)
        self.assertIn('@BROKER:5672/agents-node1\n', text)
        self.assertIn('[fleet]\nvhost_per_host = true\n', text)
