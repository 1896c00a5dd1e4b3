"""computeagent-ctl against a real agent over RabbitMQ."""

import json
import os

import fixtures

from tests.functional import base
from tests.functional import fixtures as ft_fixtures


class TestControllerCli(base.FunctionalTestCase):
    """The process's fake agent, with no instance when a test begins."""

    def setUp(self):
        super().setUp()
        self.agent = self.use_shared_agent('fake', empty=True)

    def ctl_json(self, *args):
        return json.loads(self.agent.ctl('--format', 'json', *args).stdout)

    def test_boot_wait_list_show_console_delete(self):
        uuid = self.new_uuid()
        record = self.ctl_json('boot', '--uuid', uuid, '--name', 'cli-1',
                               '--disk', 'image=demo.img,boot_index=1',
                               '--cdrom', 'image=demo.iso',
                               '--memory-mb', '64', '--wait')
        self.assertEqual('running', record['state'])
        self.assertEqual(['vda', 'sda'],
                         [d['target'] for d in record['disks']])
        table = self.agent.ctl('list').stdout
        self.assertIn(uuid, table)
        self.assertIn('cli-1', table)
        self.assertIn('| state', self.agent.ctl('show', uuid).stdout)
        self.assertIn(uuid, self.agent.ctl('console', uuid).stdout)
        for command, state in (('pause', 'paused'), ('unpause', 'running'),
                               ('stop', 'shutoff'), ('start', 'running'),
                               ('suspend', 'suspended'),
                               ('resume', 'running'),
                               ('reboot', 'running')):
            self.assertEqual(state, self.ctl_json(command, uuid)['state'])
        record = self.ctl_json('attach-disk', uuid, 'blank,size_mb=8')
        self.assertEqual('vdb', record['disks'][-1]['target'])
        record = self.ctl_json('detach-disk', uuid, 'vdb')
        self.assertEqual(2, len(record['disks']))
        status = self.ctl_json('host-status')
        self.assertEqual(1, status['instances'])
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         self.ctl_json('delete', uuid))

    def test_boot_from_yaml_spec_file_and_cast(self):
        uuid = self.new_uuid()
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'spec.yaml')
        with open(path, 'w') as f:
            f.write(ft_fixtures.dedent('''
                uuid: %s
                vcpus: 2
                disks:
                  - source: {image: demo.img}
                    boot_index: 1
                serial_ports:
                  - type: file
                  - type: 'null'
            ''' % uuid))
        out = self.ctl_json('boot', '--spec', path)
        self.assertEqual({'uuid': uuid, 'state': 'building'}, out)
        self.agent.notifications.wait_for('instance.create.end')
        self.assertEqual(2, self.ctl_json('show', uuid)['vcpus'])

    def test_errors_are_readable(self):
        result = self.agent.ctl('show', self.new_uuid(), check=False)
        self.assertEqual(1, result.returncode)
        self.assertIn('InstanceNotFound', result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        result = self.agent.ctl('boot', '--disk', 'image=a,cache=bogus',
                                check=False)
        self.assertEqual(1, result.returncode)
        self.assertIn('InvalidSpec', result.stderr)
        self.assertIn('disks[0].cache', result.stderr)
        self.assertEqual([], self.agent.call('list_instances'))
