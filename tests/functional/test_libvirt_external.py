"""Real libvirt: changes the agent did not make, and libvirtd restarting.

A guest destroyed with virsh or powering itself off is seen as
``shutoff`` within seconds, one whose QEMU died as ``crashed``
(libvirt's lifecycle events, with the periodic power sync as the
backstop); changes made while the agent was stopped are found by
start-up recovery; guests libvirt has that the agent never made are left
alone. A change the agent did not make is logged and sent as
``instance.power_state.update``, never as ``instance.power_off.*``.

libvirtd restarts on a daemon of the test's own
(tests/functional/private_libvirtd.py): restarting the system's would
break the tests running beside it.
"""

import os
import signal
import threading
import uuid as uuid_mod

from tests.functional import fixtures as ft_fixtures
from tests.functional import libvirt_helpers as lh
from tests.functional import private_libvirtd

#: seconds for the agent to see a change; events take milliseconds, the
#: power sync runs every 5 s in these tests
SEEN_WITHIN = 30

FOREIGN_XML = """<domain type='qemu'>
  <name>ft-foreign-%(uuid)s</name>
  <uuid>%(uuid)s</uuid>
  <memory unit='MiB'>16</memory>
  <os><type arch='x86_64'>hvm</type></os>
</domain>
"""


class ExternalTestCase(lh.LibvirtTestCase):

    def boot(self, label, **image_args):
        marker = lh.new_marker(label)
        spec = self.spec([{'source': {'image': self.raw_image(
            '%s.img' % label.lower(), marker, **image_args)},
            'boot_index': 1}])
        self.create(spec)
        lh.wait_for_console(self.agent, spec['uuid'], marker)
        return spec['uuid'], marker

    def wait_for_state(self, uuid, state):
        lh.poll(lambda: self.agent.call('get_instance', uuid=uuid)[
            'state'] == state, SEEN_WITHIN, '%s becoming %s' % (uuid, state))

    def assertNotifiedAsOutsideChange(self, uuid, old, new):
        """instance.power_state.update came, and no power_off.*.

        The agent did not power the guest off, so it must not say it did.
        """
        update = self.agent.notifications.wait_for(
            'instance.power_state.update',
            predicate=lambda n: n['payload']['uuid'] == uuid)
        self.assertEqual((old, new), (update['payload']['old_state'],
                                      update['payload']['state']))
        for phase in ('start', 'end', 'error'):
            self.assertEqual([], [
                n for n in self.agent.notifications.of_type(
                    'instance.power_off.%s' % phase)
                if n['payload'].get('uuid') == uuid])


class TestChangesOutsideTheAgent(ExternalTestCase):

    shared_agent = True

    def test_a_guest_destroyed_with_virsh_is_seen_shut_off(self):
        uuid, marker = self.boot('DESTROYED')
        lh.virsh('destroy', uuid)
        self.wait_for_state(uuid, 'shutoff')
        self.assertIn('Instance %s is shutoff (was running)' % uuid,
                      self.agent.log_text())
        self.assertNotifiedAsOutsideChange(uuid, 'running', 'shutoff')
        # Still the agent's to start again.
        record = self.agent.call('start_instance', uuid=uuid)
        self.assertEqual('running', record['state'])
        lh.wait_for_console(self.agent, uuid, marker, count=2)

    def test_a_guest_that_powers_itself_off_is_seen_shut_off(self):
        uuid, marker = self.boot('POWEROFF', poweroff=True)
        self.wait_for_state(uuid, 'shutoff')
        self.assertEqual('shut off', lh.virsh('domstate', uuid).strip())
        self.assertNotifiedAsOutsideChange(uuid, 'running', 'shutoff')

    def test_a_qemu_that_dies_is_seen_crashed(self):
        uuid, marker = self.boot('CRASHED')
        # QEMU killed outright: libvirt keeps the domain shut off with
        # reason "crashed", which the agent reports as it is.
        with open('/run/libvirt/qemu/instance-%s.pid' % uuid) as f:
            os.kill(int(f.read()), signal.SIGKILL)
        self.wait_for_state(uuid, 'crashed')
        self.assertEqual('shut off (crashed)',
                         lh.virsh('domstate', '--reason', uuid).strip())
        self.assertNotifiedAsOutsideChange(uuid, 'running', 'crashed')
        # A crashed guest may be started again.
        record = self.agent.call('start_instance', uuid=uuid)
        self.assertEqual('running', record['state'])
        lh.wait_for_console(self.agent, uuid, marker, count=2)

    @lh.own_agent
    def test_changes_while_the_agent_is_stopped(self):
        stopped, marker = self.boot('STOPPED')
        vanished, _ = self.boot('VANISHED')
        kept, _ = self.boot('KEPT')
        self.assertEqual(0, self.agent.stop())
        lh.virsh('destroy', stopped)
        lh.virsh('destroy', vanished)
        lh.virsh('undefine', vanished)
        self.agent.start()
        self.assertEqual('shutoff', self.agent.call(
            'get_instance', uuid=stopped)['state'])
        self.assertEqual('running', self.agent.call(
            'get_instance', uuid=kept)['state'])
        record = self.agent.call('get_instance', uuid=vanished)
        self.assertEqual('error', record['state'])
        self.assertIn('vanished from the hypervisor', record['error'])
        self.assertIn('Instance %s was running but its domain vanished'
                      % vanished, self.agent.log_text())
        # Its files are removed by a delete; the others are as they were.
        self.agent.call('delete_instance', uuid=vanished)
        self.assertNothingLeft(vanished)
        self.agent.call('start_instance', uuid=stopped)
        lh.wait_for_console(self.agent, stopped, marker, count=2)

    def define_foreign(self):
        """A domain of libvirt's that the agent did not make; its uuid."""
        foreign = str(uuid_mod.uuid4())
        path = os.path.join(self.agent.dir, 'foreign-%s.xml' % foreign)
        with open(path, 'w') as f:
            f.write(FOREIGN_XML % {'uuid': foreign})
        lh.virsh('define', path)
        self.addCleanup(lh.virsh, 'undefine', foreign, check=False)
        return foreign

    @lh.own_agent
    def test_a_create_with_a_foreign_guests_uuid_leaves_it_alone(self):
        foreign = self.define_foreign()
        spec = self.spec([{'source': {'image': self.raw_image(
            'f.img', b'F')}}])
        spec['uuid'] = foreign
        error = self.assertRemoteError('DriverError', self.agent.call,
                                       'create_instance', spec=spec)
        self.assertIn('already has a domain', error.value)
        self.assertIn(foreign, lh.domain_uuids())
        self.assertEqual([], self.agent.call('list_instances'))

    @lh.own_agent
    def test_recovery_leaves_guests_the_agent_never_made_alone(self):
        foreign = self.define_foreign()
        orphan = self.define_foreign()
        # A directory of the second uuid with only what the agent makes
        # in it, as a create that died would leave: with a guest of that
        # uuid, it is not the agent's to remove.
        directory = self.instance_dir(orphan)
        os.makedirs(directory)
        with open(os.path.join(directory, 'disk'), 'w'):
            pass
        self.assertEqual(0, self.agent.stop())
        self.agent.start()
        self.assertTrue({foreign, orphan} <= lh.domain_uuids())
        self.assertEqual(['disk'], os.listdir(directory))
        log = self.agent.log_text()
        self.assertIn('Leaving %s alone: no record names it, but libvirt '
                      'has a domain of that uuid' % orphan, log)
        self.assertIn(foreign, log)
        self.assertEqual([], self.agent.call('list_instances'))


class TestLibvirtdRestart(ExternalTestCase):

    def setUp(self):
        ft_fixtures.ensure_services()
        self.libvirtd = self.useFixture(private_libvirtd.PrivateLibvirtd())
        self.extra_options = {'libvirt': {'connection_uri':
                                          self.libvirtd.uri}}
        super().setUp()

    def test_a_request_waits_for_libvirtd_to_come_back(self):
        uuid, marker = self.boot('OUTAGE')
        self.libvirtd.stop_libvirtd()
        answers = []
        caller = threading.Thread(target=lambda: answers.append(
            self.agent.call('stop_instance', uuid=uuid, timeout=5)))
        caller.start()
        self.addCleanup(caller.join, 120)
        lh.poll(lambda: 'is unreachable' in self.agent.log_text(),
                SEEN_WITHIN, 'the agent to find libvirtd gone')
        self.libvirtd.start_libvirtd()
        caller.join(120)
        self.assertEqual('shutoff', answers[0]['state'])
        self.assertEqual('shut off',
                         self.libvirtd.virsh('domstate', uuid).strip())

    def test_the_next_request_after_a_restart_works(self):
        uuid, marker = self.boot('RESTART')
        self.libvirtd.restart_libvirtd()
        # The guest outlived libvirtd, and the new libvirtd found it.
        self.assertEqual('running',
                         self.libvirtd.virsh('domstate', uuid).strip())
        status = self.agent.call('get_host_status')
        self.assertEqual(1, status['instances'])
        # It reconnected (at least once: a periodic task may have tried
        # while libvirtd was down).
        self.assertLessEqual(2, self.agent.log_text().count(
            'Connected to %s' % self.libvirtd.uri))
        self.assertEqual('shutoff', self.stop(uuid)['state'])
        self.assertEqual('running', self.agent.call(
            'start_instance', uuid=uuid)['state'])
        lh.wait_for_console(self.agent, uuid, marker, count=2)
        other, _ = self.boot('AFTER')
        # Events come on the new connection (or the power sync sees it).
        self.libvirtd.virsh('destroy', other)
        self.wait_for_state(other, 'shutoff')
