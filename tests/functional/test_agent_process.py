"""The agent as a process: start-up errors, logging, clean shutdown."""

import signal
import subprocess

from tests.functional import base
from tests.functional import fixtures as ft_fixtures


class TestAgentProcess(base.FunctionalTestCase):

    def test_unknown_driver_is_a_start_up_error_naming_installed(self):
        agent = self.useFixture(ft_fixtures.AgentFixture(
            'no-such-driver', start=False))
        result = subprocess.run(
            [ft_fixtures.console_script('computeagent'), '--config-file',
             agent.config_file], capture_output=True, text=True,
            timeout=120)
        self.assertEqual(2, result.returncode)
        log = result.stdout + result.stderr
        self.assertIn("no-such-driver", log)
        self.assertIn('fake', log)
        self.assertIn('libvirt', log)

    def test_sigterm_stops_cleanly_and_records_survive_restart(self):
        agent = self.useFixture(ft_fixtures.AgentFixture('fake'))
        uuid = self.new_uuid()
        agent.call('create_instance', spec={
            'uuid': uuid, 'disks': [{'source': {'image': 'a.img'}}]})
        self.assertEqual(0, agent.stop(signal.SIGTERM))
        self.assertIn('Stopped', agent.log_text())
        agent.start()
        # The fake hypervisor forgot its guests with the process, so the
        # record is kept and marked as the hypervisor now has it.
        record = agent.call('get_instance', uuid=uuid)
        self.assertEqual(uuid, record['uuid'])
        self.assertEqual('error', record['state'])
        self.assertIn('gone', record['error'])
        agent.call('delete_instance', uuid=uuid)
        self.assertEqual([], agent.call('list_instances'))

    def test_request_id_is_in_every_log_line_of_the_request(self):
        agent = self.useFixture(ft_fixtures.AgentFixture('fake'))
        uuid = self.new_uuid()
        agent.call('create_instance', ctxt={'request_id': 'req-ft-log-42'},
                   spec={'uuid': uuid,
                         'disks': [{'source': {'image': 'a.img'}}]})
        lines = [line for line in agent.log_text().splitlines()
                 if uuid in line and 'running' in line]
        self.assertTrue(lines)
        for line in lines:
            self.assertIn('req-ft-log-42', line)

    def test_sigint_also_stops(self):
        agent = self.useFixture(ft_fixtures.AgentFixture('fake'))
        self.assertEqual(0, agent.stop(signal.SIGINT))
