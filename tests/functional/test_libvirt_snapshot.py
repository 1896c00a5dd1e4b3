"""Real QEMU guests: snapshot disks and commit_disk.

The boot sectors never write to their disk, so the "guest's" writes are
made by qemu-io inside the running QEMU (``virsh qemu-monitor-command
--hmp``), through the disk's block backend like a guest's own writes.
Offset 64 KiB is past the boot sector, so the guest still boots after.
"""

import os

from tests.functional import libvirt_helpers as lh

OFFSET = 64 * 1024
LATER = 128 * 1024


class TestSnapshotDisks(lh.LibvirtTestCase):

    shared_agent = True

    def _snapshot_guest(self):
        """A running guest whose only disk (vda) is a snapshot disk.

        :returns: (uuid, disk file, base file, overlay file)
        """
        marker = lh.new_marker('SNAPSHOT')
        spec = self.spec([{'source': {'image': self.raw_image(
            'boot.img', marker)}, 'boot_index': 1, 'snapshot': True}])
        record = self.create(spec)
        uuid = spec['uuid']
        lh.wait_for_console(self.agent, uuid, marker)
        disk_file = os.path.join(self.instance_dir(uuid), 'disk')
        disk = record['disks'][0]
        # The record shows the disk file, not the temporary overlay.
        self.assertEqual((disk_file, 'qcow2', True),
                         (disk['path'], disk['format'], disk['snapshot']))
        chain = lh.qemu_img_info(disk_file, chain=True)
        base = chain[1]['filename']
        self.assertEqual(self.base_dir(), os.path.dirname(base))
        overlay = self._live_source(uuid)
        self.assertNotEqual(disk_file, overlay)
        self.assertEqual(self.instance_dir(uuid), os.path.dirname(overlay))
        # The overlay is on the disk file, which is on the base.
        self.assertEqual(disk_file, lh.qemu_img_info(overlay)[
            'full-backing-filename'])
        return uuid, disk_file, base, overlay

    @staticmethod
    def _live_source(uuid, target='vda'):
        return lh.find_disk(lh.dumpxml(uuid), target).find('source').get(
            'file')

    def _write(self, uuid, pattern, offset, target='vda'):
        lh.guest_io(uuid, target, 'write -P %s %d 512' % (pattern, offset))
        lh.guest_io(uuid, target, 'flush')
        lh.guest_io(uuid, target, 'read -P %s %d 512' % (pattern, offset))

    def _file_has(self, path, pattern, offset):
        """Whether 512 bytes of ``pattern`` are at ``offset`` of a file.

        :raises: AssertionError if qemu-io could not read at all
        """
        code, output = lh.qemu_io(path, 'qcow2', 'read -P %s %d 512'
                                  % (pattern, offset))
        if 'Pattern verification failed' in output:
            return False
        self.assertEqual(0, code, output)
        return True

    def test_disk_file_is_unchanged_after_the_guest_stops(self):
        uuid, disk_file, base, overlay = self._snapshot_guest()
        disk_sha, base_sha = lh.sha256(disk_file), lh.sha256(base)

        self._write(uuid, '0xab', OFFSET)
        # The write is real, and it is in the overlay only.
        self.assertTrue(self._file_has(overlay, '0xab', OFFSET))
        self.assertFalse(self._file_has(disk_file, '0xab', OFFSET))
        self.assertEqual(disk_sha, lh.sha256(disk_file))

        self.assertEqual('shutoff', self.stop(uuid)['state'])
        self.assertEqual(disk_sha, lh.sha256(disk_file))
        self.assertEqual(base_sha, lh.sha256(base))
        self.assertFalse(os.path.exists(overlay))

        # The next start runs on a fresh, empty overlay.
        self.assertEqual('running', self.agent.call(
            'start_instance', uuid=uuid)['state'])
        self.assertEqual(overlay, self._live_source(uuid))
        lh.guest_io(uuid, 'vda', 'read -P 0 %d 512' % OFFSET)
        self.assertEqual(disk_sha, lh.sha256(disk_file))

    def test_commit_disk_merges_into_the_disk_file_not_the_base(self):
        uuid, disk_file, base, overlay = self._snapshot_guest()
        disk_sha, base_sha = lh.sha256(disk_file), lh.sha256(base)

        self._write(uuid, '0xab', OFFSET)
        record = self.agent.call('commit_disk', uuid=uuid, target='vda')
        self.assertEqual('running', record['state'])
        self.assertEqual((disk_file, True), (record['disks'][0]['path'],
                                             record['disks'][0]['snapshot']))
        self.assertNotEqual(disk_sha, lh.sha256(disk_file))
        self.assertTrue(self._file_has(disk_file, '0xab', OFFSET))
        self.assertEqual(base_sha, lh.sha256(base))

        # Writes after the commit are temporary again: a new overlay.
        self.assertEqual(overlay, self._live_source(uuid))
        self._write(uuid, '0xcd', LATER)
        self.assertFalse(self._file_has(disk_file, '0xcd', LATER))
        committed_sha = lh.sha256(disk_file)

        self.assertEqual('shutoff', self.stop(uuid)['state'])
        self.assertEqual(committed_sha, lh.sha256(disk_file))
        self.assertTrue(self._file_has(disk_file, '0xab', OFFSET))
        self.assertTrue(self._file_has(disk_file, '0', LATER))
        self.assertEqual(base_sha, lh.sha256(base))

        # Restarted: the committed data is there, the later write is not,
        # and the guest is on an overlay again.
        self.agent.call('start_instance', uuid=uuid)
        self.assertEqual(overlay, self._live_source(uuid))
        lh.guest_io(uuid, 'vda', 'read -P 0xab %d 512' % OFFSET)
        lh.guest_io(uuid, 'vda', 'read -P 0 %d 512' % LATER)

    def test_commit_disk_of_a_stopped_guest_is_refused(self):
        uuid, disk_file, _base, _overlay = self._snapshot_guest()
        self.stop(uuid)
        sha = lh.sha256(disk_file)
        self.assertRemoteError('InvalidState', self.agent.call,
                               'commit_disk', uuid=uuid, target='vda')
        self.assertEqual(sha, lh.sha256(disk_file))

    def test_commit_all_commits_every_snapshot_disk(self):
        # commit_disk without a target (API 1.3): the monitor's "commit
        # all". vdc is no snapshot disk: its writes are on its file at once.
        marker = lh.new_marker('COMMIT-ALL')
        spec = self.spec([
            {'source': {'image': self.raw_image('boot.img', marker)},
             'boot_index': 1, 'snapshot': True},
            {'source': {'blank': True}, 'size_mb': 1, 'snapshot': True},
            {'source': {'blank': True}, 'size_mb': 1}])
        self.create(spec)
        uuid = spec['uuid']
        lh.wait_for_console(self.agent, uuid, marker)
        files = {target: os.path.join(self.instance_dir(uuid), name)
                 for target, name in (('vda', 'disk'), ('vdb', 'disk.vdb'))}
        overlays = {t: self._live_source(uuid, t) for t in files}
        base = lh.qemu_img_info(files['vda'], chain=True)[1]['filename']
        base_sha = lh.sha256(base)
        self._write(uuid, '0xab', OFFSET, 'vda')
        self._write(uuid, '0xcd', OFFSET, 'vdb')
        for target, pattern in (('vda', '0xab'), ('vdb', '0xcd')):
            self.assertFalse(self._file_has(files[target], pattern, OFFSET))

        client = self.agent.client.prepare(version='1.3')
        record = client.call({}, 'commit_disk', uuid=uuid)
        self.assertEqual('running', record['state'])
        self.assertEqual([True, True, False],
                         [d['snapshot'] for d in record['disks']])
        for target, pattern in (('vda', '0xab'), ('vdb', '0xcd')):
            self.assertTrue(self._file_has(files[target], pattern, OFFSET),
                            target)
            # Later writes are temporary again: a fresh overlay each.
            self.assertEqual(overlays[target],
                             self._live_source(uuid, target))
        self.assertEqual(base_sha, lh.sha256(base))

        # What was committed outlives the guest's run.
        self.stop(uuid)
        self.agent.call('start_instance', uuid=uuid)
        lh.guest_io(uuid, 'vda', 'read -P 0xab %d 512' % OFFSET)
        lh.guest_io(uuid, 'vdb', 'read -P 0xcd %d 512' % OFFSET)

    def test_commit_all_without_snapshot_disks_does_nothing(self):
        marker = lh.new_marker('COMMIT-NONE')
        spec = self.spec([{'source': {'image': self.raw_image(
            'plain.img', marker)}, 'boot_index': 1}])
        record = self.create(spec)
        lh.wait_for_console(self.agent, spec['uuid'], marker)
        disk_sha = lh.sha256(record['disks'][0]['path'])
        client = self.agent.client.prepare(version='1.3')
        self.assertEqual(self.agent.call('get_instance', uuid=spec['uuid']),
                         client.call({}, 'commit_disk', uuid=spec['uuid']))
        self.assertEqual(disk_sha, lh.sha256(record['disks'][0]['path']))
