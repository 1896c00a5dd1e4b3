"""computeagent-ctl against a real agent over RabbitMQ."""

import json
import os
import subprocess
import time

import fixtures

from tests.functional import base
from tests.functional import fixtures as ft_fixtures
from tests.functional import libvirt_helpers

# Starting the command takes a few seconds of imports (oslo.messaging
# brings in eventlet); the deadlines come on top of that.
STARTUP = 20


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
        self.assertEqual({'uuid': uuid, 'create': 'sent'}, out)
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

    def test_options_after_the_subcommand_and_narrow_tables(self):
        uuid = self.new_uuid()
        self.agent.ctl('boot', '--uuid', uuid, '--name', 'n' * 200,
                       '--disk', 'image=demo.img,boot_index=1',
                       '--cdrom', 'image=demo.iso', '--metadata', 'k=v',
                       '--wait')
        self.assertEqual([uuid], [r['uuid'] for r in json.loads(
            self.agent.ctl('list', '--format', 'json',
                           '--timeout', '10').stdout)])
        for args in (['list'], ['show', uuid], ['host-status']):
            text = self.agent.ctl(*args).stdout
            self.assertLessEqual(max(len(line) for line in
                                     text.splitlines()), 100, text)
        show = self.agent.ctl('show', uuid).stdout
        self.assertIn('| disks          | vda virtio qcow2 boot=1 ', show)
        self.assertIn('|                | sda cdrom sata ', show)


class TestFailures(base.FunctionalTestCase):
    """Each way of not reaching an agent: one line, promptly, exit 1 or 2."""

    def ctl(self, *args, timeout=5):
        started = time.monotonic()
        result = subprocess.run(
            [ft_fixtures.console_script('computeagent-ctl'),
             '--timeout', str(timeout)] + list(args),
            capture_output=True, text=True, timeout=120)
        self.assertLess(time.monotonic() - started, timeout + STARTUP)
        self.assertEqual('', result.stdout)
        self.assertEqual(1, len(result.stderr.splitlines()), result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        return result.returncode, result.stderr.strip()

    def test_a_wrong_password(self):
        url = ft_fixtures.BROKER.replace('guest:guest@', 'guest:wrong@')
        self.assertEqual(
            (1, 'computeagent-ctl: error: the message broker (127.0.0.1:'
                '5672, user guest) refused the login: check the user and '
                'password of the transport URL'),
            self.ctl('--transport-url', url, 'list'))

    def test_an_unreachable_broker(self):
        self.assertEqual(
            (1, 'computeagent-ctl: error: cannot reach the message broker '
                '(127.0.0.1:1, user guest) within 3 s: [Errno 111] '
                'Connection refused'),
            self.ctl('--transport-url', 'rabbit://guest:guest@127.0.0.1:1/',
                     'list', timeout=3))

    def test_an_unreachable_broker_before_a_long_wait(self):
        # stop gives the guest 600 s; the broker is found wanting in 3.
        code, error = self.ctl(
            '--transport-url', 'rabbit://guest:guest@127.0.0.1:1/',
            'stop', self.new_uuid(), '--timeout', '600', timeout=3)
        self.assertEqual(1, code)
        self.assertIn('cannot reach the message broker', error)

    def test_a_host_nobody_serves(self):
        self.assertEqual(
            (1, "computeagent-ctl: error: no answer from the agent of host "
                "'nobody-here' (topic 'computeagent') within 3 s (is it "
                "running, and is the host right?)"),
            self.ctl('--transport-url', ft_fixtures.BROKER, 'list',
                     '--host', 'nobody-here', timeout=3))

    def test_a_missing_config_file(self):
        self.assertEqual(
            (2, 'computeagent-ctl: error: configuration: Failed to find '
                'some config files: /nonexistent/computeagent.conf'),
            self.ctl('--config-file', '/nonexistent/computeagent.conf',
                     'list'))

    def test_a_bad_option(self):
        code, error = self.ctl('list', '--format', 'yaml')
        self.assertEqual(2, code)
        self.assertIn("argument --format: invalid choice: 'yaml'", error)


class TestGuestWaits(libvirt_helpers.LibvirtTestCase):
    """With a guest that ignores ACPI, as the demo's: say it, and be quick.

    The agent keeps the default soft_reboot_timeout here, as the demo's
    does, so a soft reboot would take 120 s.
    """

    extra_options = {'libvirt': {'soft_reboot_timeout': 120}}

    def test_stop_and_reboot_promptly(self):
        uuid = self.new_uuid()
        image = self.raw_image('acpi-deaf.img', b'DEAF')
        self.agent.ctl('boot', '--uuid', uuid, '--memory-mb', '64',
                       '--disk', 'image=%s,boot_index=1' % image, '--wait')
        started = time.monotonic()
        result = self.agent.ctl('--format', 'json', 'stop', uuid,
                                '--timeout', '2')
        self.assertLess(time.monotonic() - started, 2 + STARTUP)
        self.assertEqual('shutoff', json.loads(result.stdout)['state'])
        self.assertEqual('waiting up to 2 s for the guest to shut down '
                         '(ACPI); --timeout 0 forces it off',
                         result.stderr.strip())
        self.agent.ctl('start', uuid)
        started = time.monotonic()
        result = self.agent.ctl('--format', 'json', 'reboot', uuid,
                                '--hard')
        self.assertLess(time.monotonic() - started, STARTUP)
        self.assertEqual('running', json.loads(result.stdout)['state'])
        self.assertEqual('', result.stderr)
        # What a soft reboot would say (it is not waited out here).
        help_text = ' '.join(self.agent.ctl('reboot', '--help').stdout
                             .split())
        self.assertIn('soft_reboot_timeout (default 120 s)', help_text)
        self.agent.ctl('delete', uuid)
