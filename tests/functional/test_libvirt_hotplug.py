"""Real QEMU guests: disks attached and detached while running, cdroms.

What counts is what the running guest got: the live domain XML
(``virsh dumpxml``) and the images QEMU itself has open (the monitor's
``info block``), beside the persistent definition and the files.

The boot-sector guests have no PCI hot-plug driver, so they never
release a virtio-blk disk detached while they run: it stays in the live
XML (and in QEMU) until the guest stops. detach_disk says so with a
DriverError, and the record and the files keep the disk as long as the
guest does; the persistent definition has lost it, and a stop finishes
the detach. A SCSI disk leaves without the guest's help.
"""

import os

from tests.functional import guest_state as gs
from tests.functional import libvirt_helpers as lh


class TestHotplug(lh.LibvirtTestCase):

    shared_agent = True
    #: the boot sectors never release a disk: do not wait long for it
    #: (libvirt waits 5 s of its own within each request)
    extra_options = {'libvirt': {'device_detach_timeout': 1}}

    def uses_shared_agent(self):
        # One agent with these options for every test here, as for
        # tests without extra_options; none asserts anything of it as a
        # whole.
        return True

    def boot(self, label, disks=()):
        """A running guest booted from vda, with ``disks`` after it.

        :returns: (uuid, marker)
        """
        marker = lh.new_marker(label)
        spec = self.spec([{'source': {'image': self.raw_image(
            '%s.img' % label.lower(), marker)}, 'boot_index': 1}] +
            list(disks))
        self.create(spec)
        lh.wait_for_console(self.agent, spec['uuid'], marker)
        return spec['uuid'], marker

    def live(self, uuid):
        return gs.disk_targets(lh.dumpxml(uuid))

    def persistent(self, uuid):
        return gs.disk_targets(lh.dumpxml(uuid, inactive=True))

    def restart(self, uuid, marker, boots):
        """Stop and start the guest; it boots for the ``boots``-th time."""
        self.assertEqual('shutoff', self.agent.call(
            'stop_instance', uuid=uuid, timeout=0)['state'])
        self.assertEqual('running', self.agent.call(
            'start_instance', uuid=uuid)['state'])
        lh.wait_for_console(self.agent, uuid, marker, count=boots)

    def targets(self, uuid):
        return [d['target'] for d in self.agent.call(
            'get_instance', uuid=uuid)['disks']]

    def plug(self, label, bus='virtio', target='vdb'):
        """A running guest with a blank disk attached at ``target``.

        :returns: (uuid, marker, the disk's file)
        """
        uuid, marker = self.boot(label)
        disk_file = os.path.join(self.instance_dir(uuid),
                                 'disk.%s' % target)
        record = self.agent.call('attach_disk', uuid=uuid, disk={
            'source': {'blank': True}, 'size_mb': 1, 'bus': bus})
        self.assertEqual('running', record['state'])
        self.assertEqual([('vda', 'virtio'), (target, bus)],
                         [(d['target'], d['bus']) for d in record['disks']])
        self.assertEqual(disk_file, record['disks'][1]['path'])
        self.assertTrue(os.path.exists(disk_file))
        domain = lh.dumpxml(uuid)
        self.assertEqual(bus, lh.find_disk(domain, target).find(
            'target').get('bus'))
        self.assertEqual(disk_file, lh.find_disk(domain, target).find(
            'source').get('file'))
        self.assertEqual(['vda', target], self.persistent(uuid))
        self.assertIn(disk_file, gs.qemu_block_files(uuid))
        self.assertEqual(('running', 'booted'), gs.domstate(uuid))
        return uuid, marker, disk_file

    def assertHeld(self, uuid, disk_file):
        """vdb is the guest's still, and so the record's and its file."""
        error = self.assertRemoteError('DriverError', self.agent.call,
                                       'detach_disk', uuid=uuid,
                                       target='vdb')
        self.assertIn('has not released disk vdb', error.value)
        self.assertEqual(['vda', 'vdb'], self.targets(uuid))
        self.assertEqual(['vda', 'vdb'], self.live(uuid))
        self.assertIn(disk_file, gs.qemu_block_files(uuid))
        self.assertTrue(os.path.exists(disk_file))
        # The next start must not have it.
        self.assertEqual(['vda'], self.persistent(uuid))
        self.assertEqual(('running', 'booted'), gs.domstate(uuid))

    def test_virtio_blk_unplug_the_guest_does_not_release(self):
        uuid, marker, disk_file = self.plug('VIRTIO')
        self.assertHeld(uuid, disk_file)
        # Asked again, it still holds it; nothing changes.
        self.assertHeld(uuid, disk_file)
        # A stop finishes the detach.
        record = self.agent.call('stop_instance', uuid=uuid, timeout=0)
        self.assertEqual(('shutoff', ['vda']), (
            record['state'], [d['target'] for d in record['disks']]))
        self.assertEqual(['vda'], self.targets(uuid))
        self.assertEqual(['vda'], self.persistent(uuid))
        self.assertFalse(os.path.exists(disk_file))
        self.assertEqual(['vda'], [d['target'] for d in self.agent.call(
            'start_instance', uuid=uuid)['disks']])
        lh.wait_for_console(self.agent, uuid, marker, count=2)
        self.assertEqual(['vda'], self.live(uuid))
        self.assertNotIn(disk_file, gs.qemu_block_files(uuid))

    def test_virtio_blk_unplug_finished_when_the_guest_stops_itself(self):
        uuid, _marker, disk_file = self.plug('SELFSTOP')
        self.assertHeld(uuid, disk_file)
        # Not through the agent: the power sync sees it shut off.
        lh.virsh('destroy', gs.domain_name(uuid))
        lh.poll(lambda: self.targets(uuid) == ['vda'], 60,
                'the detach of vdb finished after %s stopped' % uuid)
        self.assertEqual('shutoff', self.agent.call(
            'get_instance', uuid=uuid)['state'])
        self.assertEqual(['vda'], self.persistent(uuid))
        self.assertFalse(os.path.exists(disk_file))

    def test_virtio_scsi_hotplug_adds_the_controller(self):
        uuid, _marker = self.boot('SCSICTL')
        self.assertEqual([], [c for c in lh.dumpxml(uuid).findall(
            'devices/controller') if c.get('type') == 'scsi'])
        self.agent.call('attach_disk', uuid=uuid, disk={
            'source': {'blank': True}, 'size_mb': 1, 'bus': 'scsi'})
        for domain in (lh.dumpxml(uuid), lh.dumpxml(uuid, inactive=True)):
            self.assertEqual(['virtio-scsi'], [
                c.get('model') for c in domain.findall('devices/controller')
                if c.get('type') == 'scsi'])
            self.assertEqual('scsi', lh.find_disk(domain, 'sda').find(
                'target').get('bus'))

    def test_virtio_scsi_hotplug(self):
        # A SCSI disk leaves without the guest's help: gone from the
        # guest when the call returns, and only then its file.
        uuid, marker, disk_file = self.plug('SCSI', 'scsi', 'sda')
        record = self.agent.call('detach_disk', uuid=uuid, target='sda')
        self.assertEqual(['vda'], [d['target'] for d in record['disks']])
        self.assertEqual(['vda'], self.live(uuid))
        self.assertEqual(['vda'], self.persistent(uuid))
        self.assertNotIn(disk_file, gs.qemu_block_files(uuid))
        self.assertFalse(os.path.exists(disk_file))
        self.assertNotIn('has not released', self.agent.log_text())
        self.restart(uuid, marker, boots=2)
        self.assertEqual(['vda'], self.live(uuid))

    def test_attach_after_a_detach_the_guest_did_not_release(self):
        uuid, marker, disk_file = self.plug('REATTACH')
        self.assertHeld(uuid, disk_file)
        before = sorted(os.listdir(self.instance_dir(uuid)))
        again = {'source': {'blank': True}, 'size_mb': 2}
        # Refused with the reason, not libvirt's "target duplicated",
        # and nothing is made.
        error = self.assertRemoteError(
            'DriverError', self.agent.call, 'attach_disk', uuid=uuid,
            disk=dict(again, target='vdb'))
        self.assertIn('has not released the disk detached from vdb',
                      error.value)
        self.assertEqual(before, sorted(os.listdir(self.instance_dir(uuid))))
        self.assertEqual(['vda', 'vdb'], self.targets(uuid))
        # The next free target works at once.
        record = self.agent.call('attach_disk', uuid=uuid, disk=again)
        self.assertEqual(['vda', 'vdb', 'vdc'],
                         [d['target'] for d in record['disks']])
        self.assertEqual(['vda', 'vdb', 'vdc'], self.live(uuid))
        # After a restart the guest has what the record says.
        self.restart(uuid, marker, boots=2)
        self.assertEqual(['vda', 'vdc'], self.targets(uuid))
        self.assertEqual(['vda', 'vdc'], self.live(uuid))
        self.assertFalse(os.path.exists(disk_file))
        record = self.agent.call('attach_disk', uuid=uuid,
                                 disk=dict(again, target='vdb'))
        self.assertEqual(['vda', 'vdc', 'vdb'],
                         [d['target'] for d in record['disks']])
        self.assertIn('vdb', self.live(uuid))

    def test_attach_to_a_stopped_guest_appears_at_start(self):
        uuid, marker = self.boot('COLD')
        self.agent.call('stop_instance', uuid=uuid, timeout=0)
        record = self.agent.call('attach_disk', uuid=uuid, disk={
            'source': {'blank': True}, 'size_mb': 1})
        self.assertEqual('shutoff', record['state'])
        self.assertEqual(['vda', 'vdb'], self.persistent(uuid))
        self.agent.call('start_instance', uuid=uuid)
        lh.wait_for_console(self.agent, uuid, marker, count=2)
        self.assertEqual(['vda', 'vdb'], self.live(uuid))
        self.assertIn(os.path.join(self.instance_dir(uuid), 'disk.vdb'),
                      gs.qemu_block_files(uuid))


class TestCdrom(lh.LibvirtTestCase):

    shared_agent = True

    @staticmethod
    def _cdrom(domain):
        """The cdrom's medium: its source file, or None when empty.

        libvirt shows an empty drive of a running guest as a <source>
        with no file.
        """
        source = lh.find_disk(domain, 'sda').find('source')
        return source.get('file') if source is not None else None

    def test_media_change_and_eject(self):
        marker = lh.new_marker('CDROM')
        spec = self.spec([
            {'source': {'image': self.raw_image('cd.img', marker)},
             'boot_index': 1},
            {'source': {'blank': True}, 'device': 'cdrom'}])
        record = self.create(spec)
        uuid = spec['uuid']
        lh.wait_for_console(self.agent, uuid, marker)
        self.assertEqual(('sda', 'cdrom', None), (
            record['disks'][1]['target'], record['disks'][1]['device'],
            record['disks'][1]['path']))
        self.assertIsNone(self._cdrom(lh.dumpxml(uuid)))
        media = self.iso_image('media.iso', b'MEDIA')

        record = self.agent.call('change_media', uuid=uuid, target='sda',
                                 image=media)
        path = record['disks'][1]['path']
        # The cached, verified image, read-only.
        self.assertEqual(self.base_dir(), os.path.dirname(path))
        for domain in (lh.dumpxml(uuid), lh.dumpxml(uuid, inactive=True)):
            self.assertEqual(path, self._cdrom(domain))
        self.assertIn(path, gs.qemu_block_files(uuid))
        self.assertEqual(path, self.agent.call(
            'get_instance', uuid=uuid)['disks'][1]['path'])

        record = self.agent.call('change_media', uuid=uuid, target='sda')
        self.assertIsNone(record['disks'][1]['path'])
        for domain in (lh.dumpxml(uuid), lh.dumpxml(uuid, inactive=True)):
            self.assertIsNone(self._cdrom(domain))
        self.assertNotIn(path, gs.qemu_block_files(uuid))
        self.assertEqual(('running', 'booted'), gs.domstate(uuid))
        # The image stays in the cache for the next instance.
        self.assertTrue(os.path.exists(path))
