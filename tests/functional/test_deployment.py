"""The deployed agent, run as the systemd unit runs it: not root.

The agent is the one tools/install-agent.sh installs (the unit's
ExecStart), started as the unit's user with its groups and only the
unit's capability (``setpriv``: this machine has no systemd), against the
system libvirtd whose socket tools/configure-libvirtd.sh opened to group
libvirt. Its instances path is its own, as the install script makes it.
"""

import configparser
import os
import pwd
import shlex
import stat
import subprocess

import oslo_messaging
from testtools import content

from tests.functional import base
from tests.functional import fixtures as ft_fixtures
from tests.functional import libvirt_helpers as lh
from tests import images

UNIT = os.path.join(ft_fixtures.TOP, 'etc', 'computeagent',
                    'computeagent.service')


def read_unit():
    """The [Service] section of the unit."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    with open(UNIT) as f:
        parser.read_file(f)
    return parser['Service']


def proc_status(pid):
    """``/proc/<pid>/status`` as {field: value}."""
    with open('/proc/%d/status' % pid) as f:
        return dict(line.rstrip('\n').split(':\t', 1) for line in f)


class DeployedAgentTestCase(base.FunctionalTestCase):
    """One deployed agent per test, as the unit would run it.

    Subclasses set ``capabilities`` (setpriv's names).
    """

    capabilities = None  # the unit's

    def setUp(self):
        super().setUp()
        service = read_unit()
        argv = shlex.split(service['ExecStart'])
        self.script = argv[0]
        if not os.access(self.script, os.X_OK):
            self.fail('%s is not installed: run tools/install-agent.sh '
                      '(tools/run-tests.sh does)' % self.script)
        self.user = service['User']
        # The deployment's own step makes the user (idempotent).
        subprocess.run(['bash', os.path.join(ft_fixtures.TOP, 'tools',
                                             'install-agent.sh'), 'user'],
                       check=True, capture_output=True, timeout=120)
        self.uid = pwd.getpwnam(self.user).pw_uid
        caps = self.capabilities
        if caps is None:
            caps = [c.lower().replace('cap_', '', 1)
                    for c in service['AmbientCapabilities'].split()]
        self.agent = self.useFixture(ft_fixtures.AgentFixture(
            'libvirt', options=lh.LIBVIRT_OPTIONS, user=self.user,
            capabilities=caps, script=self.script))
        self.addOnException(self._attach_agent_log)

    def _attach_agent_log(self, exc_info):
        self.addDetailUniqueName('agent.log', content.text_content(
            self.agent.log_tail(200)))

    def boot(self, marker):
        """A running guest of a one-sector image; its uuid."""
        images.write_raw_image(os.path.join(self.agent.image_dir,
                                            'boot.img'), marker)
        uuid = self.new_uuid()
        record = self.agent.call('create_instance', spec={
            'uuid': uuid, 'memory_mb': lh.GUEST_MEMORY_MB,
            'disks': [{'source': {'image': 'boot.img'},
                       'boot_index': 1}]})
        self.addCleanup(self._delete_quietly, uuid)
        self.assertEqual('running', record['state'], record)
        return uuid

    def _delete_quietly(self, uuid):
        try:
            self.agent.call('delete_instance', uuid=uuid)
        except oslo_messaging.RemoteError:
            pass  # the test deleted it

    def instance_dir(self, uuid):
        return os.path.join(self.agent.instances_path, uuid)

    def assertDeletedWithoutTrace(self, uuid):
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         self.agent.call('delete_instance', uuid=uuid))
        self.assertNotIn(uuid, lh.domain_uuids())
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.assertRemoteError('InstanceNotFound', self.agent.call,
                               'get_instance', uuid=uuid)
        # Only the shared image cache is left in the instances path (and
        # the notification outbox of an agent installed since it came).
        self.assertEqual(['_base'], sorted(
            set(os.listdir(self.agent.instances_path)) - {'.outbox'}))

    def assertConsoleIsRootOnly(self, uuid):
        """virtlogd's console.log: what the capability is for."""
        info = os.stat(os.path.join(self.instance_dir(uuid),
                                    'console.log'))
        self.assertEqual((0, 0, 0o600), (info.st_uid, info.st_gid,
                                         stat.S_IMODE(info.st_mode)))


class TestDeployedAgent(DeployedAgentTestCase):

    def test_runs_unprivileged_with_the_units_capability_only(self):
        status = proc_status(self.agent.process.pid)
        self.assertEqual([self.uid] * 4,
                         [int(u) for u in status['Uid'].split()])
        dac_read_search = 1 << 2
        for field in ('CapEff', 'CapPrm', 'CapAmb', 'CapBnd'):
            self.assertEqual(dac_read_search, int(status[field], 16),
                             field)
        self.assertEqual('1', status['NoNewPrivs'])

    def test_boot_console_stop_start_delete(self):
        marker = lh.new_marker('DEPLOYED')
        uuid = self.boot(marker)
        directory = os.stat(self.instance_dir(uuid))
        self.assertEqual(self.uid, directory.st_uid)
        # QEMU (libvirt-qemu) traverses it to reach the disks.
        self.assertEqual(0o755, stat.S_IMODE(directory.st_mode))
        self.assertConsoleIsRootOnly(uuid)
        lh.wait_for_console(self.agent, uuid, marker)

        call = self.agent.call
        self.assertEqual('shutoff', call('stop_instance', uuid=uuid,
                                         timeout=0)['state'])
        self.assertEqual('running', call('start_instance',
                                         uuid=uuid)['state'])
        lh.wait_for_console(self.agent, uuid, marker, count=2)
        self.assertDeletedWithoutTrace(uuid)


class TestWithoutTheCapability(DeployedAgentTestCase):

    capabilities = ()

    def test_console_is_a_clear_error_and_delete_still_works(self):
        uuid = self.boot(lh.new_marker('NOCAP'))
        self.assertConsoleIsRootOnly(uuid)
        error = self.assertRemoteError('DriverError', self.agent.call,
                                       'get_console_output', uuid=uuid)
        self.assertIn('cannot read the console log %s: Permission denied'
                      % os.path.join(self.instance_dir(uuid),
                                     'console.log'), error.value)
        self.assertIn('CAP_DAC_READ_SEARCH', error.value)
        self.assertNotIn('Traceback', self.agent.log_text())
        # Removing root's console.log needs only write permission on the
        # agent's own instance directory.
        self.assertDeletedWithoutTrace(uuid)
