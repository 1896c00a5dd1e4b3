"""computeagent-ctl end to end: ctl.main() against an agent on fake:.

The agent (a Service with the fake driver) runs in this process; ctl
reaches it over the fake: transport with --transport-url fake:/, as it
would reach a remote agent over RabbitMQ. Replies and errors cross the
transport as they would a broker (the WireFormat fixture).
"""

import argparse
import io
import json
import logging
import os
import threading
import time

import fixtures

from computeagent.api import tlscheck
from computeagent.cli import parser as cli_parser
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

    def ctl(self, *argv, host='test-host', timeout='30'):
        """Run computeagent-ctl; :returns: (exit code, stdout, stderr)"""
        out = io.StringIO()
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        code = ctl.main(['--transport-url', 'fake:/', '--host', host,
                         '--topic', self.conf.rpc_topic, '--timeout',
                         timeout] + list(argv))
        return code, out.getvalue(), err.getvalue()

    def ok(self, *argv):
        """Run a command that must succeed; :returns: its stdout

        Anything on stderr must be a note of what it waited for.
        """
        code, out, err = self.ctl(*argv)
        self.assertEqual(0, code, err)
        self.assertNotIn('error', err)
        return out

    def ok_json(self, *argv):
        return json.loads(self.ok('--format', 'json', *argv))

    def failed(self, code, *argv, **kwargs):
        """Run a command that must fail; :returns: its one line of error"""
        actual, out, err = self.ctl(*argv, **kwargs)
        self.assertEqual((code, ''), (actual, out), err)
        self.assertNotIn('Traceback', err)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertTrue(err.startswith('computeagent-ctl: error: '), err)
        return err.strip()[len('computeagent-ctl: '):]

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
        self.assertIn('| uuid           | %s ' % uuid, out)
        self.assertIn('| state          | running ', out)
        self.assertIn('|                | sdb cdrom sata qcow2 ', out)
        record = self.agent.store.get(uuid).to_dict()
        self.assertEqual(['vda', 'sda', 'sdb'],
                         [d['target'] for d in record['disks']])
        self.assertEqual({'k': 'v'}, record['metadata'])

    def test_boot_without_wait_checks_then_casts(self):
        renders = self.useFixture(fixtures.MockPatchObject(
            self.agent.driver, 'render',
            side_effect=self.agent.driver.render))
        code, out, err = self.ctl('--format', 'json', 'boot',
                                  '--disk', 'image=cirros.qcow2')
        self.assertEqual(0, code, err)
        out = json.loads(out)
        # What the help says: a dry run first, then the create is sent
        # and not waited for, and the output does not claim a state.
        self.assertEqual(1, renders.mock.call_count)
        self.assertEqual({'uuid', 'create'}, set(out))
        self.assertEqual('sent', out['create'])
        self.assertEqual('create of %s sent, not waited for: follow it with '
                         '"computeagent-ctl show %s"'
                         % (out['uuid'], out['uuid']), err.strip())
        self.notifications.wait_for('instance.create.end')
        self.assertEqual('running',
                         self.ok_json('show', out['uuid'])['state'])

    def test_boot_wait_says_how_long_it_waits(self):
        uuid = agentfixtures.new_uuid()
        code, out, err = self.ctl('boot', '--wait', '--uuid', uuid,
                                  '--disk', 'image=cirros.qcow2',
                                  timeout='45')
        self.assertEqual(0, code, err)
        self.assertEqual('waiting up to 45 s for the agent to build and '
                         'start instance %s' % uuid, err.strip())

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
        # A file the command line names is a usage error too.
        error = self.failed(2, 'boot', '--spec',
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
        self.assertEqual(self.agent.store.get(first).to_dict(),
                         self.ok_json('show', first))

    def test_migrate_says_why_it_cannot(self):
        # One agent, its instances path its own: the refusal is told.
        # (Migrations between agents: tests/unit/api/test_migration.py.)
        uuid = self.boot()
        error = self.failed(1, 'migrate', uuid, 'host-b')
        self.assertIn('MigrationFailed: The live migration failed', error)
        self.assertIn('instances_path_shared', error)
        error = self.failed(1, 'migrate', uuid, 'test-host')
        self.assertIn('InvalidSpec: Invalid dest_host', error)

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

    def test_interactive_console_url_and_attach(self):
        self.flags(proxy_base_url='ws://127.0.0.1:9/', group='console')
        uuid = self.boot('--serial', 'type=unix')
        answer = self.ok_json('console', uuid, '--url')
        self.assertEqual({'url', 'token', 'expires_at', 'port', 'type'},
                         set(answer))
        self.assertEqual('ws://127.0.0.1:9/?token=%s' % answer['token'],
                         answer['url'])
        # Nothing listens there: one line, the terminal left alone.
        code, out, err = self.ctl('console', uuid, '--attach')
        self.assertEqual((1, ''), (code, out))
        self.assertIn('error: cannot reach the console proxy at '
                      'ws://127.0.0.1:9/', err)
        code, _out, err = self.ctl('console', uuid, '--attach', '--port',
                                   '1')
        self.assertEqual(1, code)
        self.assertIn('InvalidSpec: Invalid port: instance %s has no '
                      'serial port 1' % uuid, err)

    def test_attach_and_url_exclude_each_other(self):
        self.assertRaises(SystemExit, self.ctl, 'console',
                          agentfixtures.new_uuid(), '--attach', '--url')

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
        # No target: every snapshot disk, of which it has none.
        self.assertEqual(uuid, self.ok_json('commit-disk', uuid)['uuid'])
        record = self.ok_json('set-boot-order', uuid, 'sda', 'vda')
        self.assertEqual([2, None, 1], [d['boot_index']
                                        for d in record['disks']])
        error = self.failed(1, 'set-boot-order', uuid, 'vdz')
        self.assertIn('Invalid boot_order[0]: instance %s has no disk or '
                      'nic vdz' % uuid, error)
        # One word of boot letters: cdroms first, then disks.
        record = self.ok_json('set-boot-order', uuid, 'dc')
        self.assertEqual([3, 1, 2], [d['boot_index']
                                     for d in record['disks']])

    def test_host_status_and_delete(self):
        uuid = self.boot()
        out = self.ok('host-status')
        self.assertRegex(out, r'\| driver +\| fake ')
        self.assertRegex(out, r'\| instances +\| 1 ')
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         self.ok_json('delete', uuid))
        self.assertEqual([], self.ok_json('list'))


class TestWaitNotes(CtlTestCase):
    """What stop and reboot say on stderr before they wait for a guest."""

    def test_stop(self):
        uuid = self.boot()
        code, out, err = self.ctl('stop', uuid)
        self.assertEqual(0, code, err)
        self.assertEqual('waiting up to 60 s for the guest to shut down '
                         '(ACPI); --timeout 0 forces it off', err.strip())
        self.ok('start', uuid)
        # Forced off at once, or nothing to shut down: nothing to wait for.
        code, out, err = self.ctl('stop', uuid, '--timeout', '0')
        self.assertEqual((0, ''), (code, err))
        self.ok('start', uuid)
        self.ok('pause', uuid)
        code, out, err = self.ctl('stop', uuid)
        self.assertEqual((0, ''), (code, err))

    def test_stop_passes_its_timeout_to_the_agent(self):
        uuid = self.boot()
        power_off = self.useFixture(fixtures.MockPatchObject(
            self.agent.driver, 'power_off',
            side_effect=self.agent.driver.power_off))
        self.ok('stop', uuid, '--timeout', '7')
        self.assertEqual(7, power_off.mock.call_args[1]['timeout'])

    def test_reboot(self):
        self.flags(soft_reboot_timeout=42, group='libvirt')
        uuid = self.boot()
        code, out, err = self.ctl('reboot', uuid)
        self.assertEqual(0, code, err)
        self.assertEqual('waiting up to 42 s for the guest to reboot (ACPI) '
                         'before the agent resets it; --hard resets it at '
                         'once', err.strip())
        code, out, err = self.ctl('reboot', uuid, '--hard')
        self.assertEqual((0, ''), (code, err))
        self.assertIn('rebooting (hard)', self.ok('console', uuid))


class TestCommandLine(CtlTestCase):

    def test_options_after_the_subcommand(self):
        uuid = self.boot('--name', 'after')
        self.assertEqual([uuid], [r['uuid'] for r in json.loads(
            self.ok('list', '--format', 'json'))])
        self.assertEqual('after', json.loads(self.ok(
            'show', uuid, '--format', 'json', '--timeout', '5'))['name'])
        error = self.failed(1, 'list', '--host', 'nobody-here',
                            '--timeout', '1')
        self.assertIn("host 'nobody-here'", error)
        self.assertIn('within 1 s', error)

    def test_options_before_the_subcommand_are_kept(self):
        args = cli_parser.parse_args(['--format', 'json', '--timeout', '7',
                                      '--host', 'a', '--config-file', 'x',
                                      'list', '--config-file', 'y'])
        self.assertEqual(('json', 7, 'a', ['x', 'y']),
                         (args.format, args.timeout, args.host,
                          args.config_file))
        args = cli_parser.parse_args(['--timeout', '7', 'stop', 'u',
                                      '--timeout', '0'])
        self.assertEqual((7, 0), (args.timeout, args.stop_timeout))

    def test_every_flag_has_help(self):
        def check(parser, name):
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    for sub_name, sub in action.choices.items():
                        check(sub, sub_name)
                    continue
                self.assertTrue(action.help, '%s %s' % (
                    name, action.option_strings or action.dest))
        check(cli_parser.make_parser(), 'computeagent-ctl')

    def test_help_shows_the_defaults(self):
        parser = cli_parser.make_parser()
        text = parser.format_help()
        self.assertIn('(default: 30; boot --wait: 600)', ' '.join(
            text.split()))
        subs = next(a for a in parser._actions
                    if isinstance(a, argparse._SubParsersAction)).choices
        stop = ' '.join(subs['stop'].format_help().split())
        self.assertIn('0 forces it off at once (default: 60)', stop)
        boot = ' '.join(subs['boot'].format_help().split())
        self.assertIn('(a cast)', boot)


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
        started = time.monotonic()
        error = self.failed(1, 'list', host='nobody-here', timeout='1')
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual("error: no answer from the agent of host "
                         "'nobody-here' (topic '%s') within 1 s (is it "
                         "running, and is the host right?)"
                         % self.conf.rpc_topic, error)

    def test_a_missing_config_file(self):
        error = self.failed(2, '--config-file',
                            os.path.join(self.tmp, 'nope.conf'), 'list')
        self.assertEqual('error: configuration: Failed to find some config '
                         'files: %s' % os.path.join(self.tmp, 'nope.conf'),
                         error)

    def test_a_bad_option_value_in_the_config_file(self):
        path = os.path.join(self.tmp, 'bad.conf')
        with open(path, 'w') as f:
            f.write('[libvirt]\nsoft_reboot_timeout = soon\n')
        error = self.failed(2, '--config-file', path, 'reboot', self.boot())
        self.assertIn('soft_reboot_timeout in %s is not valid' % path,
                      error)

    def test_usage_errors_are_one_line(self):
        for argv, message in (
                ([], 'the following arguments are required: COMMAND'),
                (['frobnicate'], "argument COMMAND: invalid choice: "
                                 "'frobnicate'"),
                (['show'], 'the following arguments are required: uuid'),
                (['stop', 'u', '--hard'], 'unrecognized arguments: --hard'),
                (['--timeout', 'abc', 'list'], "argument --timeout: "
                                               "expected a whole number, "
                                               "not 'abc'"),
                (['list', '--timeout', '0'], 'argument --timeout: must be '
                                             'at least 1, not 0'),
                (['stop', 'u', '--timeout', '-1'], 'argument --timeout: '
                                                   'must be at least 0')):
            err = io.StringIO()
            self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
            error = self.assertRaises(SystemExit, ctl.main, argv)
            self.assertEqual(2, error.code)
            self.assertEqual(1, len(err.getvalue().splitlines()),
                             err.getvalue())
            self.assertIn(message, err.getvalue())
            self.assertTrue(err.getvalue().startswith('computeagent-ctl'))
            self.assertIn('--help)', err.getvalue())

    def test_the_broker_refuses_the_login(self):
        # The rabbit driver lets the AMQP library's own exception through;
        # its reply code says what happened (403 ACCESS_REFUSED).
        class AccessRefused(Exception):
            reply_code = 403

        self.useFixture(fixtures.MockPatch(
            'computeagent.api.rpcapi.ComputeAgentAPI.list_instances',
            side_effect=AccessRefused('(0, 0): (403) ACCESS_REFUSED')))
        self.assertEqual('error: the message broker (transport fake) '
                         'refused the login: check the user and password '
                         'of the transport URL', self.failed(1, 'list'))


class TestDeadlines(CtlTestCase):
    """No request outlives its deadline, whatever the transport does."""

    def hold(self, method):
        """Make the client's ``method`` hang as a call to a dead broker."""
        gate = threading.Event()
        self.addCleanup(gate.set)
        self.useFixture(fixtures.MockPatch(
            'computeagent.api.rpcapi.ComputeAgentAPI.' + method,
            side_effect=lambda *a, **k: gate.wait(60)))

    def timed_failure(self, *argv, timeout='1', within=5):
        started = time.monotonic()
        error = self.failed(1, *argv, timeout=timeout)
        self.assertLess(time.monotonic() - started, within)
        return error

    def test_a_request_that_never_ends(self):
        self.hold('list_instances')
        self.assertEqual("error: no answer from the agent of host "
                         "'test-host' (topic '%s') within 1 s (is it "
                         "running, and is the host right?)"
                         % self.conf.rpc_topic, self.timed_failure('list'))

    def test_a_broker_that_cannot_be_reached(self):
        # What oslo.messaging's rabbit driver logs while it retries.
        def unreachable(*args, **kwargs):
            logging.getLogger('oslo.messaging._drivers.impl_rabbit').error(
                'Connection failed: %s (retrying in %s seconds)',
                '[Errno 111] Connection refused', 1.0)
            threading.Event().wait(60)
        self.useFixture(fixtures.MockPatch(
            'computeagent.api.rpcapi.ComputeAgentAPI.list_instances',
            side_effect=unreachable))
        error = self.timed_failure('list')
        self.assertEqual('error: cannot reach the message broker '
                         '(transport fake) within 1 s: [Errno 111] '
                         'Connection refused', error)

    def test_a_tls_problem_is_told_at_once(self):
        # At the driver's first connection error the broker's TLS is
        # looked at (computeagent.api.tlscheck), once, within the
        # deadline; what it finds ends the wait.
        def refused(*args, **kwargs):
            logging.getLogger('oslo.messaging._drivers.impl_rabbit').error(
                'Connection failed: %s (retrying in %s seconds)',
                '[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca', 1.0)
            threading.Event().wait(60)
        self.useFixture(fixtures.MockPatch(
            'computeagent.api.rpcapi.ComputeAgentAPI.list_instances',
            side_effect=refused))
        check = self.useFixture(fixtures.MockPatch(
            'computeagent.api.tlscheck.check',
            side_effect=tlscheck.ClientCertificateRefused(
                'broker1:5671', 'the message broker at broker1:5671 '
                'refused the certificate /c.pem: TLSV1_ALERT_UNKNOWN_CA '
                '(it trusts no CA that issued the certificate)'))).mock
        error = self.timed_failure('list', timeout='30')
        self.assertEqual('error: the message broker at broker1:5671 refused '
                         'the certificate /c.pem: TLSV1_ALERT_UNKNOWN_CA (it '
                         'trusts no CA that issued the certificate)', error)
        self.assertEqual(1, check.call_count)
        _conf, url = check.call_args[0]
        self.assertEqual('fake:/', url)
        self.assertLessEqual(check.call_args[1]['timeout'], 5)

    def test_no_tls_problem_waits_on(self):
        def unreachable(*args, **kwargs):
            for _ in range(3):
                logging.getLogger(
                    'oslo.messaging._drivers.impl_rabbit').error(
                    'Connection failed: %s (retrying in %s seconds)',
                    '[Errno 111] Connection refused', 0.1)
                threading.Event().wait(0.2)
            return []
        self.useFixture(fixtures.MockPatch(
            'computeagent.api.rpcapi.ComputeAgentAPI.list_instances',
            side_effect=unreachable))
        check = self.useFixture(fixtures.MockPatch(
            'computeagent.api.tlscheck.check')).mock
        self.assertEqual('[]\n', self.ok('--format', 'json', 'list'))
        self.assertEqual(1, check.call_count)

    def test_a_change_given_up_on_may_still_happen(self):
        uuid = self.boot()
        self.hold('pause_instance')
        self.assertIn('within 1 s; the pause of %s may still be under way '
                      'there' % uuid, self.timed_failure('pause', uuid))

    def test_stop_first_asks_within_the_quick_timeout(self):
        # However long the guest may take, an agent that does not answer
        # is reported within --timeout.
        self.hold('get_instance')
        error = self.timed_failure('stop', self.boot(), '--timeout', '600')
        self.assertIn('no answer from the agent', error)

    def test_boot_wait_first_asks_within_the_quick_timeout(self):
        self.hold('render_instance')
        error = self.timed_failure('boot', '--wait',
                                   '--disk', 'image=cirros.qcow2')
        self.assertIn('no answer from the agent', error)

    def test_stop_waits_for_the_guest_on_top_of_the_timeout(self):
        uuid = self.boot()
        held = self.useFixture(agentfixtures.HeldCalls(self.agent.driver,
                                                       'power_off'))
        threading.Timer(2, held.gate.set).start()
        code, out, err = self.ctl('--format', 'json', 'stop', uuid,
                                  '--timeout', '5', timeout='1')
        self.assertEqual(0, code, err)
        self.assertEqual('shutoff', json.loads(out)['state'])
        self.assertEqual('waiting up to 5 s for the guest to shut down '
                         '(ACPI); --timeout 0 forces it off', err.strip())

    def test_the_default_timeouts(self):
        seen = []

        def record_timeout(api, *args, **kwargs):
            seen.append(api.client.timeout)
            return []
        self.useFixture(fixtures.MockPatch(
            'computeagent.api.rpcapi.ComputeAgentAPI.list_instances',
            autospec=True, side_effect=record_timeout))
        out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.assertEqual(0, ctl.main(['--transport-url', 'fake:/',
                                      'list']))
        self.assertEqual([cli_parser.DEFAULT_TIMEOUT], seen)
        self.assertLessEqual(cli_parser.DEFAULT_TIMEOUT, 60)
