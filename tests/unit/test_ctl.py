"""computeagent-ctl end to end: ctl.main() against an agent on fake:.

The agent (a Service with the fake driver) runs in this process; ctl
reaches it over the fake: transport with --transport-url fake:/, as it
would reach a remote agent over RabbitMQ. Replies and errors cross the
transport as they would a broker (the WireFormat fixture).
"""

import io
import json
import os
import subprocess
import sys

import fixtures

from computeagent.cmd import ctl
from tests import base
from tests.unit import agentfixtures


class CtlTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        fake = self.useFixture(agentfixtures.FakeTransport(self.conf))
        self.notifications = fake.notifications
        self.useFixture(agentfixtures.WireFormat())
        self.agent = self.useFixture(agentfixtures.AgentService(self.conf))

    def ctl(self, *argv, host='test-host'):
        """Run computeagent-ctl; :returns: (exit code, stdout, stderr)"""
        out = io.StringIO()
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        code = ctl.main(['--transport-url', 'fake:/', '--host', host,
                         '--topic', self.conf.rpc_topic, '--timeout', '30']
                        + list(argv))
        return code, out.getvalue(), err.getvalue()

    def ok(self, *argv):
        code, out, err = self.ctl(*argv)
        self.assertEqual((0, ''), (code, err), out)
        return out

    def ok_json(self, *argv):
        return json.loads(self.ok('--format', 'json', *argv))

    def failed(self, code, *argv):
        actual, out, err = self.ctl(*argv)
        self.assertEqual((code, ''), (actual, out), err)
        self.assertNotIn('Traceback', err)
        return err.strip()

    def boot(self, *argv):
        uuid = agentfixtures.new_uuid()
        self.ok('boot', '--wait', '--uuid', uuid,
                '--disk', 'image=cirros.qcow2', *argv)
        return uuid


class TestBoot(CtlTestCase):

    def test_boot_and_wait(self):
        uuid = agentfixtures.new_uuid()
        out = self.ok('boot', '--wait', '--uuid', uuid, '--name', 'web',
                      '--disk', 'image=cirros.qcow2,boot_index=1',
                      '--disk', 'blank,size_mb=8,bus=scsi',
                      '--cdrom', 'image=tools.iso', '--metadata', 'k=v')
        self.assertIn('| uuid         | %s ' % uuid, out)
        self.assertIn('| state        | running ', out)
        self.assertIn('| sdb    | cdrom  | sata ', out)
        record = self.agent.store.get(uuid)
        self.assertEqual(['vda', 'sda', 'sdb'],
                         [d['target'] for d in record['disks']])
        self.assertEqual({'k': 'v'}, record['metadata'])

    def test_boot_sends_and_returns(self):
        out = self.ok_json('boot', '--disk', 'image=cirros.qcow2')
        self.assertEqual('building', out['state'])
        self.notifications.wait_for('instance.create.end')
        self.assertEqual('running',
                         self.ok_json('show', out['uuid'])['state'])

    def test_a_bad_spec_is_reported_before_sending(self):
        error = self.failed(1, 'boot', '--vcpus', '0',
                            '--disk', 'image=cirros.qcow2')
        self.assertEqual('error: InvalidSpec: Invalid vcpus: must be from '
                         '1 to 255, not 0', error)
        self.assertEqual([], self.agent.store.list())
        self.assertEqual([], self.notifications.messages(
            'instance.create.start'))

    def test_dry_run(self):
        out = self.ok('boot', '--dry-run', '--uuid',
                      '11111111-2222-4333-8444-555555555555',
                      '--disk', 'image=cirros.qcow2')
        self.assertIn("<uuid>11111111-2222-4333-8444-555555555555</uuid>",
                      out)
        self.assertIn('| target | path', out)
        plan = self.ok_json('boot', '--dry-run',
                            '--disk', 'image=cirros.qcow2')
        self.assertEqual(['vda'], [d['target'] for d in plan['disks']])
        self.assertEqual([], self.agent.store.list())

    def test_a_spec_file(self):
        path = os.path.join(self.tmp, 'spec.yaml')
        with open(path, 'w') as f:
            f.write('name: from-yaml\nvcpus: 2\n'
                    'disks: [{source: {image: cirros.qcow2}}]\n')
        record = self.ok_json('boot', '--wait', '--spec', path,
                              '--memory-mb', '256')
        self.assertEqual(('from-yaml', 2, 256),
                         (record['name'], record['vcpus'],
                          record['memory_mb']))

    def test_flag_errors(self):
        error = self.failed(2, 'boot', '--disk', 'image=a,size_mb=big')
        self.assertEqual("error: size_mb must be a whole number, not "
                         "'big'", error)
        error = self.failed(1, 'boot', '--spec',
                            os.path.join(self.tmp, 'missing.json'))
        self.assertIn('missing.json', error)


class TestCommands(CtlTestCase):

    def test_list_and_show(self):
        first = self.boot('--name', 'one')
        second = self.boot('--name', 'two')
        out = self.ok('list')
        self.assertIn('| %s | one  | running |' % first, out)
        self.assertIn('| %s | two  | running |' % second, out)
        self.assertEqual([first, second],
                         [r['uuid'] for r in self.ok_json('list')])
        self.assertEqual(self.agent.store.get(first),
                         self.ok_json('show', first))

    def test_power_commands(self):
        uuid = self.boot()
        for argv, state in ((['pause'], 'paused'),
                            (['unpause'], 'running'),
                            (['suspend'], 'suspended'),
                            (['resume'], 'running'),
                            (['reboot'], 'running'),
                            (['stop', '--timeout', '5'], 'shutoff'),
                            (['reboot', '--hard'], 'running'),
                            (['stop'], 'shutoff'),
                            (['start'], 'running')):
            record = self.ok_json(argv[0], uuid, *argv[1:])
            self.assertEqual(state, record['state'], argv)
        self.assertIn('rebooting (hard)', self.ok('console', uuid))

    def test_console(self):
        uuid = self.boot()
        self.ok('reboot', uuid)
        self.assertEqual('fake guest %s rebooting (soft)\n' % uuid,
                         self.ok('console', uuid, '--tail', '1'))
        self.assertEqual('(soft)\n',
                         self.ok('console', uuid, '--max-bytes', '7'))
        result = self.ok_json('console', uuid)
        self.assertEqual({'output', 'truncated', 'size'}, set(result))

    def test_disk_commands(self):
        uuid = self.boot('--cdrom', 'bus=ide')
        record = self.ok_json('attach-disk', uuid, 'blank,size_mb=8')
        self.assertEqual(['vda', 'hda', 'vdb'],
                         [d['target'] for d in record['disks']])
        record = self.ok_json('attach-disk', uuid, 'image=b.iso', '--cdrom')
        self.assertEqual(('sda', 'cdrom'), (record['disks'][3]['target'],
                                            record['disks'][3]['device']))
        record = self.ok_json('detach-disk', uuid, 'vdb')
        self.assertEqual(['vda', 'hda', 'sda'],
                         [d['target'] for d in record['disks']])
        record = self.ok_json('change-media', uuid, 'hda', '--image',
                              'c.iso')
        self.assertEqual('fake://image/c.iso', record['disks'][1]['path'])
        record = self.ok_json('change-media', uuid, 'hda')
        self.assertIsNone(record['disks'][1]['path'])
        error = self.failed(1, 'commit-disk', uuid, 'vda')
        self.assertEqual('error: InvalidSpec: Invalid target: vda is not a '
                         'snapshot disk', error)

    def test_host_status_and_delete(self):
        uuid = self.boot()
        out = self.ok('host-status')
        self.assertIn('| driver         | fake ', out)
        self.assertIn('| instances      | 1 ', out)
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         self.ok_json('delete', uuid))
        self.assertEqual([], self.ok_json('list'))


class TestErrors(CtlTestCase):

    def test_remote_errors_read_well(self):
        uuid = agentfixtures.new_uuid()
        self.assertEqual('error: InstanceNotFound: Instance %s could not be '
                         'found on this host.' % uuid,
                         self.failed(1, 'show', uuid))
        self.assertEqual('error: InvalidSpec: Invalid uuid: is not a UUID',
                         self.failed(1, 'start', 'nope'))
        running = self.boot()
        self.assertEqual('error: InvalidState: Cannot resume instance %s '
                         'while it is running.' % running,
                         self.failed(1, 'resume', running))

    def test_no_agent_answers(self):
        code, out, err = self.ctl('--timeout', '1', 'list',
                                  host='nobody-here')
        self.assertEqual((1, ''), (code, out))
        self.assertEqual('error: no answer from the agent within 1 s (is it '
                         'running and is the host right?)', err.strip())

    def test_a_missing_config_file(self):
        error = self.failed(1, '--config-file',
                            os.path.join(self.tmp, 'nope.conf'), 'list')
        self.assertIn('nope.conf', error)

    def test_usage_errors_exit(self):
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        for argv in ([], ['frobnicate'], ['show'], ['stop', 'u', '--hard']):
            error = self.assertRaises(SystemExit, ctl.main, argv)
            self.assertEqual(2, error.code)


class TestCtlProcess(base.TestCase):
    """computeagent-ctl as its own process.

    There nothing else has registered oslo.messaging's options before it.
    """

    def test_transport_url_from_the_command_line(self):
        result = subprocess.run(
            [sys.executable, '-m', 'computeagent.cmd.ctl',
             '--transport-url', 'fake:/', '--host', 'nobody-here',
             '--timeout', '1', 'list'],
            capture_output=True, text=True, timeout=60,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                os.path.abspath(__file__)))))
        self.assertEqual((1, ''), (result.returncode, result.stdout))
        self.assertEqual('error: no answer from the agent within 1 s (is it '
                         'running and is the host right?)',
                         result.stderr.strip().splitlines()[-1])
