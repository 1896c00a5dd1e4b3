"""A real Linux guest through the agent: what the guest itself sees.

The guest (tests/linux_guest.py, built by tests/linux_guest_image.py)
reports on its serial console each disk with its serial, read-only flag
and write cache, disks plugged in and out while it runs, what it wrote,
and the ACPI power button; the tests wait for those lines (polling
get_console_output) and read them as proof, beside the live domain XML
and the files on the host.

The tests share an agent of their own whose soft reboots wait for the
guest as long as its stops do: the shared libvirt agent's 2 s (made for
boot sectors that ignore ACPI) is about what this guest takes under TCG
to act on the button. Two guests in all, each used for several checks.
"""

import os
import shutil
import uuid as uuid_mod

from tests.functional import guest_state as gs
from tests.functional import libvirt_helpers as lh
from tests import linux_guest
from tests import linux_guest_image

#: how long a TCG boot to the ready marker may take on a loaded machine
#: (about 4 s on an idle one; minutes were seen with a load of 40)
BOOT_TIMEOUT = 300
#: the agent's wait for the guest to act on ACPI, in a stop or a soft
#: reboot; one that needs more is forced, and the tests say so
ACPI_TIMEOUT = 300
#: what RPC calls that wait for the guest wait for their answer
RPC_TIMEOUT = ACPI_TIMEOUT + 60


def _tag(label):
    """A serial unique to this run: ``label`` plus random hex."""
    return '%s%s' % (label, uuid_mod.uuid4().hex[:12])


class LinuxGuestTestCase(lh.LibvirtTestCase):

    shared_agent = True
    extra_options = {'libvirt': {'soft_reboot_timeout': ACPI_TIMEOUT,
                                 'device_detach_timeout': ACPI_TIMEOUT}}

    def uses_shared_agent(self):
        # Unlike other tests with extra_options, these share one agent:
        # the one with these options (fixtures.shared_agent keys agents
        # by their options). None stops it or asserts anything of it as
        # a whole.
        return True

    def setUp(self):
        super().setUp()
        self.guest = linux_guest_image.build()

    def boot(self, disks=(), boot_disk=None):
        """A running guest that said it is ready; vda is the guest.

        :param disks: disk specs after vda
        :param boot_disk: more keys of vda's spec
        :returns: (uuid, instance record)
        """
        shutil.copyfile(self.guest.disk, self.image_path('linux.img'))
        vda = dict({'source': {'image': self.image_ref('linux.img')},
                    'boot_index': 1}, **(boot_disk or {}))
        spec = self.spec([vda] + list(disks),
                         memory_mb=linux_guest.MEMORY_MB)
        record = self.create(spec)
        self.wait_for(spec['uuid'], linux_guest.READY)
        return spec['uuid'], record

    def wait_for(self, uuid, line, count=1):
        """Until the guest printed ``line`` ``count`` times.

        :returns: the guest's events (tests/linux_guest.py) so far
        """
        output = lh.wait_for_console(self.agent, uuid, line,
                                     timeout=BOOT_TIMEOUT, count=count)
        return linux_guest.events(output)

    def guest_events(self, uuid):
        return linux_guest.events(self.agent.call(
            'get_console_output', uuid=uuid,
            max_bytes=1024 * 1024)['output'])

    def assertNoErrors(self, events):
        self.assertEqual([], [e for e in events if e.event == 'ERROR'])

    @staticmethod
    def disks_seen(events, event='DISK'):
        """{device: fields} of the guest's lines of that event."""
        return {e.device: e.fields for e in events if e.event == event}


class TestDisks(LinuxGuestTestCase):

    def test_the_guest_sees_each_disk_as_specified_and_stops_on_acpi(self):
        dropped, kept = _tag('write-'), _tag('write-')
        uuid, record = self.boot([
            {'source': {'blank': True}, 'size_mb': 1, 'readonly': True,
             'serial': 'ro-disk', 'cache': 'writethrough'},
            {'source': {'blank': True}, 'size_mb': 2,
             'cache': 'directsync'},
            {'source': {'blank': True}, 'size_mb': 1, 'snapshot': True,
             'serial': dropped, 'cache': 'writeback'},
            {'source': {'blank': True}, 'size_mb': 1, 'serial': kept,
             'cache': 'writeback'},
        ], boot_disk={'serial': 'boot-disk', 'cache': 'writeback'})
        events = self.guest_events(uuid)
        self.assertNoErrors(events)
        seen = self.disks_seen(events)
        self.assertEqual(
            {'vda': ('boot-disk', '0', 'write-back'),
             'vdb': ('ro-disk', '1', 'write-through'),
             'vdc': ('', '0', 'write-through'),
             'vdd': (dropped, '0', 'write-back'),
             'vde': (kept, '0', 'write-back')},
            {dev: (f['serial'], f['ro'], f['cache'])
             for dev, f in seen.items()})
        # 512-byte sectors of the sizes asked.
        self.assertEqual(('2048', '4096'), (seen['vdb']['sectors'],
                                            seen['vdc']['sectors']))
        # The guest wrote its marker to both write- disks and read it
        # back from the device.
        self.assertEqual({'vdd': dropped, 'vde': kept}, {
            e.device: e.fields['serial'] for e in events
            if e.event == 'WROTE'})
        paths = {d['target']: d['path'] for d in record['disks']}
        overlay = lh.find_disk(lh.dumpxml(uuid), 'vdd').find(
            'source').get('file')
        self.assertNotEqual(paths['vdd'], overlay)
        # While it runs the snapshot disk's write is in its overlay only.
        self.assertIn(linux_guest.written_marker(dropped),
                      self.read(overlay))
        self.assertNotIn(linux_guest.written_marker(dropped),
                         self.read(paths['vdd']))

        record = self.agent.call('stop_instance', uuid=uuid,
                                 timeout=ACPI_TIMEOUT,
                                 rpc_timeout=RPC_TIMEOUT)
        self.assertEqual('shutoff', record['state'])
        # The guest shut itself down on the power button: not forced.
        self.assertEqual(('shut off', 'shutdown'), gs.domstate(uuid))
        self.assertIn(linux_guest.POWER_BUTTON, self.agent.call(
            'get_console_output', uuid=uuid)['output'])
        self.assertNotIn('%s did not shut down' % uuid,
                         self.agent.log_text())
        # The snapshot disk's write went with its overlay; the other
        # disk's is in its file.
        self.assertFalse(os.path.exists(overlay))
        self.assertNotIn(linux_guest.written_marker(dropped),
                         self.read(paths['vdd']))
        self.assertIn(linux_guest.written_marker(kept),
                      self.read(paths['vde']))

    @staticmethod
    def read(path):
        with open(path, 'rb') as f:
            return f.read()


class TestRunningGuest(LinuxGuestTestCase):

    def test_hotplug_unplug_then_soft_reboot(self):
        uuid, _record = self.boot()
        self.plug_and_unplug(uuid)
        qemu = gs.domid(uuid)
        record = self.agent.call('reboot_instance', uuid=uuid,
                                 rpc_timeout=RPC_TIMEOUT)
        self.assertEqual('running', record['state'])
        events = self.wait_for(uuid, linux_guest.READY, count=2)
        # The guest acted on the ACPI request (libvirt then reset the
        # same QEMU); the agent did not fall back to a reset of its own.
        self.assertEqual(['READY', 'POWER-BUTTON', 'READY'], [
            e.event for e in events if e.event in ('READY', 'POWER-BUTTON')])
        self.assertEqual(qemu, gs.domid(uuid))
        self.assertNotIn('%s did not reboot' % uuid, self.agent.log_text())
        self.assertEqual(('running', 'booted'), gs.domstate(uuid))
        # After the reboot the guest has its one disk.
        booted = events[[e.event for e in events].index('POWER-BUTTON'):]
        self.assertEqual(['vda'], sorted(self.disks_seen(booted)))
        self.assertNoErrors(events)

    def plug_and_unplug(self, uuid):
        """Attach a disk and detach it, twice at the same target."""
        for round_ in (1, 2):
            serial = _tag('hot-')
            record = self.agent.call('attach_disk', uuid=uuid, disk={
                'source': {'blank': True}, 'size_mb': 2, 'serial': serial,
                'cache': 'writethrough'})
            self.assertEqual(['vda', 'vdb'],
                             [d['target'] for d in record['disks']])
            disk_file = record['disks'][1]['path']
            events = self.wait_for(uuid, 'ADDED vdb', count=round_)
            added = [e.fields for e in events
                     if (e.event, e.device) == ('ADDED', 'vdb')][-1]
            self.assertEqual((serial, '0', 'write-through', '4096'), (
                added['serial'], added['ro'], added['cache'],
                added['sectors']))

            record = self.agent.call('detach_disk', uuid=uuid,
                                     target='vdb', rpc_timeout=RPC_TIMEOUT)
            # The guest released it (its PCI slot ejected) before the
            # call returned: gone from the running QEMU and the live XML,
            # and only then its file, so the same target can be attached
            # again in the next round.
            self.assertEqual(['vda'], [d['target'] for d in record['disks']])
            self.assertEqual(['vda'], gs.disk_targets(lh.dumpxml(uuid)))
            self.assertNotIn(disk_file, gs.qemu_block_files(uuid))
            self.assertFalse(os.path.exists(disk_file))
            self.assertNotIn('has not released', self.agent.log_text())
            self.wait_for(uuid, 'REMOVED vdb', count=round_)
