"""Real QEMU guests through the RPC API: power operations, deletion and
what the agent reports of the host and admits on it.

Each operation is checked in the agent's record and in what libvirt
says of the domain (``virsh domstate --reason``, ``domid``, ``dominfo``,
``list --with-managed-save``); a reboot or a start must also make the
guest print its marker again. The boot sectors ignore ACPI, so a soft
reboot falls back to a reset after ``[libvirt] soft_reboot_timeout``
(2 s in these tests) and a stop with a timeout forces the guest off.
"""

import os

from oslo_utils import units

from tests.functional import guest_state as gs
from tests.functional import libvirt_helpers as lh

GIB = units.Gi


class LifecycleTestCase(lh.LibvirtTestCase):

    def boot(self, label):
        """A running guest that printed its marker once.

        :returns: (uuid, marker)
        """
        marker = lh.new_marker(label)
        spec = self.spec([{'source': {'image': self.raw_image(
            '%s.img' % label.lower(), marker)}, 'boot_index': 1}])
        self.create(spec)
        lh.wait_for_console(self.agent, spec['uuid'], marker)
        return spec['uuid'], marker

    def call(self, method, uuid, **kwargs):
        return self.agent.call(method, uuid=uuid, **kwargs)

    def assertState(self, uuid, state, domstate, record=None):
        """The record (returned and stored) and libvirt agree."""
        if record is not None:
            self.assertEqual(state, record['state'], record)
        self.assertEqual(state, self.call('get_instance', uuid)['state'])
        self.assertEqual(domstate, gs.domstate(uuid))

    def marker_count(self, uuid, marker):
        output = self.call('get_console_output', uuid,
                           max_bytes=1024 * 1024)['output']
        return output.count(marker.decode('ascii'))


class TestReboot(LifecycleTestCase):

    shared_agent = True

    def test_soft_reboot_falls_back_to_a_reset(self):
        uuid, marker = self.boot('SOFT')
        qemu = gs.domid(uuid)
        record = self.call('reboot_instance', uuid)
        self.assertState(uuid, 'running', ('running', 'booted'), record)
        lh.wait_for_console(self.agent, uuid, marker, count=2)
        # A reset of the same QEMU process, after the ACPI request went
        # unanswered for soft_reboot_timeout.
        self.assertEqual(qemu, gs.domid(uuid))
        self.assertIn('%s did not reboot within 2 s of the ACPI request'
                      % uuid, self.agent.log_text())
        self.agent.notifications.wait_for(
            'instance.reboot.end',
            predicate=lambda n: n['payload']['uuid'] == uuid)

    def test_hard_reboot_resets_at_once(self):
        uuid, marker = self.boot('HARD')
        qemu = gs.domid(uuid)
        record = self.call('reboot_instance', uuid, hard=True)
        self.assertState(uuid, 'running', ('running', 'booted'), record)
        lh.wait_for_console(self.agent, uuid, marker, count=2)
        self.assertEqual(qemu, gs.domid(uuid))
        self.assertNotIn('%s did not reboot' % uuid, self.agent.log_text())

    def test_hard_reboot_of_a_stopped_guest_boots_it(self):
        uuid, marker = self.boot('HARDOFF')
        self.stop(uuid)
        self.assertState(uuid, 'shutoff', ('shut off', 'destroyed'))
        record = self.call('reboot_instance', uuid, hard=True)
        self.assertState(uuid, 'running', ('running', 'booted'), record)
        lh.wait_for_console(self.agent, uuid, marker, count=2)


class TestStopStart(LifecycleTestCase):

    shared_agent = True

    def test_stop_forces_a_guest_that_ignores_acpi(self):
        uuid, marker = self.boot('STOP')
        record = self.call('stop_instance', uuid, timeout=1)
        self.assertState(uuid, 'shutoff', ('shut off', 'destroyed'),
                         record)
        self.assertEqual('-', gs.domid(uuid))
        self.assertIn('%s did not shut down within 1 s; forcing it off'
                      % uuid, self.agent.log_text())
        record = self.call('start_instance', uuid)
        self.assertState(uuid, 'running', ('running', 'booted'), record)
        lh.wait_for_console(self.agent, uuid, marker, count=2)

    def test_stop_without_timeout_forces_at_once(self):
        uuid, _marker = self.boot('STOP0')
        record = self.stop(uuid, timeout=0)
        self.assertState(uuid, 'shutoff', ('shut off', 'destroyed'),
                         record)
        self.assertNotIn('%s did not shut down' % uuid,
                         self.agent.log_text())


class TestPauseSuspend(LifecycleTestCase):

    shared_agent = True

    def test_pause_and_unpause(self):
        uuid, marker = self.boot('PAUSE')
        qemu = gs.domid(uuid)
        record = self.call('pause_instance', uuid)
        self.assertState(uuid, 'paused', ('paused', 'user'), record)
        record = self.call('unpause_instance', uuid)
        self.assertState(uuid, 'running', ('running', 'unpaused'), record)
        # The same guest carries on: no new process, no second boot.
        self.assertEqual(qemu, gs.domid(uuid))
        self.assertEqual(1, self.marker_count(uuid, marker))

    def test_suspend_saves_and_resume_restores(self):
        uuid, marker = self.boot('SUSPEND')
        record = self.call('suspend_instance', uuid)
        self.assertState(uuid, 'suspended', ('shut off', 'saved'), record)
        self.assertEqual('yes', gs.dominfo(uuid)['Managed save'])
        self.assertEqual('saved', gs.listed_state(uuid))
        self.assertIn(uuid, gs.with_managed_save())
        self.assertTrue(os.path.exists(gs.managed_save_file(uuid)))
        record = self.call('resume_instance', uuid)
        self.assertState(uuid, 'running', ('running', 'restored'), record)
        self.assertEqual('no', gs.dominfo(uuid)['Managed save'])
        self.assertEqual('running', gs.listed_state(uuid))
        self.assertNotIn(uuid, gs.with_managed_save())
        self.assertFalse(os.path.exists(gs.managed_save_file(uuid)))
        # Restored from memory, not booted again.
        self.assertEqual(1, self.marker_count(uuid, marker))

    def test_a_paused_guest_suspends_and_resumes_running(self):
        uuid, _marker = self.boot('PAUSESAVE')
        self.call('pause_instance', uuid)
        record = self.call('suspend_instance', uuid)
        self.assertState(uuid, 'suspended', ('shut off', 'saved'), record)
        record = self.call('resume_instance', uuid)
        self.assertState(uuid, 'running', ('running', 'restored'), record)


class TestWrongStates(LifecycleTestCase):

    shared_agent = True

    def assertInvalidState(self, uuid, method, **kwargs):
        """The call is refused by the agent, never by libvirt."""
        error = self.assertRemoteError('InvalidState', self.agent.call,
                                       method, uuid=uuid, **kwargs)
        self.assertNotIn('libvirt', error.value)
        self.assertNotIn('Traceback', error.value)
        self.assertIn(uuid, error.value)
        return error

    def test_operations_refused_in_each_state(self):
        uuid, _marker = self.boot('WRONG')
        blank = {'source': {'blank': True}, 'size_mb': 1}
        cases = [
            ('running', ('running', 'booted'), None,
             [('unpause_instance', {}), ('resume_instance', {}),
              ('start_instance', {})]),
            ('paused', ('paused', 'user'), 'pause_instance',
             [('pause_instance', {}), ('reboot_instance', {}),
              ('start_instance', {}), ('resume_instance', {})]),
            ('shutoff', ('shut off', 'destroyed'), 'stop_instance',
             [('pause_instance', {}), ('unpause_instance', {}),
              ('suspend_instance', {}), ('resume_instance', {}),
              ('reboot_instance', {}), ('stop_instance', {}),
              ('commit_disk', {'target': 'vda'})]),
            ('suspended', ('shut off', 'saved'), None,
             [('start_instance', {}), ('pause_instance', {}),
              ('stop_instance', {}), ('reboot_instance', {'hard': True}),
              ('attach_disk', {'disk': blank}),
              ('detach_disk', {'target': 'vda'})]),
        ]
        for state, domstate, into, refused in cases:
            if into == 'stop_instance':
                self.stop(uuid)
            elif into is not None:
                self.call(into, uuid)
            elif state == 'suspended':
                self.call('start_instance', uuid)
                self.call('suspend_instance', uuid)
            self.assertState(uuid, state, domstate)
            for method, kwargs in refused:
                error = self.assertInvalidState(uuid, method, **kwargs)
                self.assertIn('while it is %s' % state, error.value)
                # Nothing changed, in the record or in libvirt.
                self.assertState(uuid, state, domstate)
        self.assertFalse(os.path.exists(os.path.join(
            self.instance_dir(uuid), 'disk.vdb')))


class TestDelete(LifecycleTestCase):

    def test_delete_from_every_state_leaves_nothing(self):
        guests = {}
        for state in ('paused', 'shutoff', 'suspended'):
            guests[state] = self.boot(state.upper())[0]
        self.call('pause_instance', guests['paused'])
        self.stop(guests['shutoff'])
        self.call('suspend_instance', guests['suspended'])
        self.assertTrue(os.path.exists(gs.managed_save_file(
            guests['suspended'])))
        base = self.base_files()
        self.assertTrue(base)
        for state, uuid in sorted(guests.items()):
            self.assertEqual(state, self.call('get_instance', uuid)['state'])
            self.assertEqual({'uuid': uuid, 'deleted': True},
                             self.call('delete_instance', uuid))
            self.assertNothingLeft(uuid)
            self.assertFalse(os.path.exists(gs.managed_save_file(uuid)))
        self.assertEqual([], self.agent.call('list_instances'))
        # The image cache is shared: it stays.
        self.assertEqual(base, self.base_files())
        self.assertEqual(['.outbox', '_base'],
                         sorted(os.listdir(self.agent.instances_path)))


class TestHost(LifecycleTestCase):

    @staticmethod
    def nodeinfo():
        return {key.strip(): value.strip() for key, _, value in (
            line.partition(':') for line in lh.virsh('nodeinfo').splitlines())
            if key}

    def test_host_status_is_the_hosts(self):
        node = self.nodeinfo()
        status = self.agent.call('get_host_status')
        self.assertEqual(int(node['CPU(s)']), status['vcpus'])
        # The kernel's MemTotal, as virsh nodememstats gives it.
        self.assertEqual(lh.host_memory_mb(), status['memory_mb'])
        stat = os.statvfs(self.agent.instances_path)
        self.assertEqual(stat.f_blocks * stat.f_frsize // GIB,
                         status['disk_gb'])
        # Other tests write meanwhile: within a GiB.
        free = stat.f_bavail * stat.f_frsize // GIB
        self.assertIn(status['disk_gb_free'], (free - 1, free, free + 1))
        qemu = lh.virsh('version').split('Running hypervisor: QEMU ')[1]
        self.assertTrue(status['hypervisor'].startswith(
            'QEMU %s (libvirt ' % qemu.split()[0]), status['hypervisor'])
        self.assertEqual(('libvirt', self.agent.host),
                         (status['driver'], status['host']))
        self.assertEqual((0, 0, 0), (status['instances'],
                                     status['vcpus_used'],
                                     status['memory_mb_used']))

        spec = self.spec([{'source': {'image': self.raw_image(
            'h.img', b'HOST')}}], vcpus=2)
        self.create(spec)
        self.stop(spec['uuid'])
        # A stopped guest keeps its claim.
        status = self.agent.call('get_host_status')
        self.assertEqual((1, 2, lh.GUEST_MEMORY_MB),
                         (status['instances'], status['vcpus_used'],
                          status['memory_mb_used']))
        # The periodic report carries the same figures.
        self.agent.notifications.wait_for(
            'compute.host.status',
            predicate=lambda n: n['payload']['instances'] == 1 and
            n['payload']['memory_mb_used'] == lh.GUEST_MEMORY_MB)
        self.agent.call('delete_instance', uuid=spec['uuid'])
        status = self.agent.call('get_host_status')
        self.assertEqual((0, 0, 0), (status['instances'],
                                     status['vcpus_used'],
                                     status['memory_mb_used']))

    def test_creates_beyond_the_host_are_refused(self):
        status = self.agent.call('get_host_status')
        image = self.raw_image('big.img', b'BIG')
        # With nothing but the defaults: 512 MiB of memory reserved,
        # disk not overcommitted, 16 vCPUs per CPU.
        too_big = [
            ('MiB of memory asked',
             {'memory_mb': status['memory_mb'] - 511}, {}),
            # Without the check, a sparse file would be made and boot.
            ('MiB of disk asked', {},
             {'size_mb': (status['disk_gb'] + 1) * 1024}),
            ('vCPUs asked', {'vcpus': status['vcpus'] * 16 + 1}, {}),
        ]
        for what, extra, disk in too_big:
            spec = self.spec([dict({'source': {'image': image}}, **disk)],
                             **extra)
            error = self.assertRemoteError(
                'InsufficientResources', self.agent.call, 'create_instance',
                spec=spec)
            # That resource, and only that one, is named.
            self.assertEqual([what], [w for w, _e, _d in too_big
                                      if w in error.value], error.value)
            self.assertNothingLeft(spec['uuid'])
        self.assertEqual(set(), self.base_files())
        self.assertEqual([], self.agent.call('list_instances'))
