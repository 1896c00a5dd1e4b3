"""Real QEMU guests booting API 1.3's media.

A floppy (``device: floppy``), a host cdrom drive (a loop device of an
ISO the test builds, listed in ``[disk] host_cdrom_devices``) and the
letter boot order (``boot_order``). Each boot sector prints a marker to
COM1 and halts, so the console log says what SeaBIOS really booted.
"""

import os
import subprocess
import tempfile

import oslo_messaging

from tests.functional import libvirt_helpers as lh
from tests import images


class TestFloppy(lh.LibvirtTestCase):

    shared_agent = True

    def test_a_floppy_boots_by_boot_index_over_a_disk(self):
        disk_marker = lh.new_marker('FROM-DISK')
        floppy_marker = lh.new_marker('FROM-FLOPPY')
        spec = self.spec([
            {'source': {'image': self.raw_image('disk.img', disk_marker)},
             'boot_index': 2},
            {'source': {'image': self.floppy_image('boot.img',
                                                   floppy_marker)},
             'device': 'floppy', 'boot_index': 1}])
        record = self.create(spec)
        uuid = spec['uuid']
        floppy_file = os.path.join(self.instance_dir(uuid), 'disk.fda')
        floppy = record['disks'][1]
        self.assertEqual(('fda', 'floppy', 'fdc', floppy_file, 'raw', 1), (
            floppy['target'], floppy['device'], floppy['bus'],
            floppy['path'], floppy['format'], floppy['boot_index']))
        output = lh.wait_for_console(self.agent, uuid, floppy_marker)
        self.assertNotIn(disk_marker.decode(), output)
        # The floppy is a raw copy of the image, on QEMU's floppy drive.
        self.assertEqual(lh.sha256(self.image_path('boot.img')),
                         lh.sha256(floppy_file))
        disk = lh.find_disk(lh.dumpxml(uuid), 'fda')
        self.assertEqual(('floppy', 'fdc', 'raw', floppy_file), (
            disk.get('device'), disk.find('target').get('bus'),
            disk.find('driver').get('type'),
            disk.find('source').get('file')))

    def test_a_floppy_attaches_to_a_stopped_guest_only(self):
        disk_marker = lh.new_marker('FIRST-BOOT')
        floppy_marker = lh.new_marker('ATTACHED-FLOPPY')
        # A boot index on the disk too: libvirt gives a domain with none
        # <os><boot dev='hd'/>, which no per-device one may join later.
        spec = self.spec([{'source': {'image': self.raw_image(
            'disk.img', disk_marker)}, 'boot_index': 2}])
        self.create(spec)
        uuid = spec['uuid']
        lh.wait_for_console(self.agent, uuid, disk_marker)
        floppy = {'source': {'image': self.floppy_image(
            'boot.img', floppy_marker)}, 'device': 'floppy',
            'boot_index': 1}
        # QEMU's floppy controller has no hot-plug.
        self.assertRemoteError('InvalidState', self.agent.call,
                               'attach_disk', uuid=uuid, disk=floppy)
        self.assertEqual(['vda'], [
            d.find('target').get('dev')
            for d in lh.dumpxml(uuid).findall('devices/disk')])
        self.stop(uuid)
        record = self.agent.call('attach_disk', uuid=uuid, disk=floppy)
        self.assertEqual('fda', record['disks'][1]['target'])
        self.agent.call('start_instance', uuid=uuid)
        lh.wait_for_console(self.agent, uuid, floppy_marker)
        self.assertEqual(
            1, self.read_console_file(uuid).count(disk_marker))


class TestLetterBootOrder(lh.LibvirtTestCase):

    shared_agent = True

    def _boot(self, letters):
        disk_marker = lh.new_marker('LETTER-C')
        cd_marker = lh.new_marker('LETTER-D')
        spec = self.spec([
            {'source': {'image': self.raw_image('disk.img', disk_marker)}},
            {'source': {'image': self.iso_image('boot.iso', cd_marker)},
             'device': 'cdrom'}], boot_order=letters)
        record = self.create(spec)
        return spec['uuid'], record, disk_marker, cd_marker

    def test_dc_boots_the_cdrom(self):
        uuid, record, disk_marker, cd_marker = self._boot('dc')
        self.assertEqual([2, 1], [d['boot_index'] for d in record['disks']])
        output = lh.wait_for_console(self.agent, uuid, cd_marker)
        self.assertNotIn(disk_marker.decode(), output)
        # Per-device boot orders, never <os><boot dev=...>.
        domain = lh.dumpxml(uuid)
        self.assertIsNone(domain.find('os/boot'))
        self.assertEqual('1', lh.find_disk(domain, 'sda').find(
            'boot').get('order'))

    def test_cd_boots_the_disk(self):
        uuid, record, disk_marker, cd_marker = self._boot('cd')
        self.assertEqual([1, 2], [d['boot_index'] for d in record['disks']])
        output = lh.wait_for_console(self.agent, uuid, disk_marker)
        self.assertNotIn(cd_marker.decode(), output)


class TestHostCdrom(lh.LibvirtTestCase):
    """A loop device of a bootable ISO stands in for the host's drive."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix='host-cdrom-')
        self.marker = lh.new_marker('HOST-CDROM')
        self.iso = images.make_iso(os.path.join(self.workdir, 'boot.iso'),
                                   self.marker)
        self.loop = subprocess.run(
            ['losetup', '--find', '--show', '--read-only', self.iso],
            check=True, capture_output=True, text=True).stdout.strip()
        try:
            # Listed for this test's agent, with a path that is no block
            # device, to see that refused too.
            self.not_a_device = os.path.join(self.workdir, 'boot.iso')
            self.extra_options = {'disk': {
                'host_cdrom_devices': '%s,%s' % (self.loop,
                                                 self.not_a_device)}}
            super().setUp()
        except BaseException:
            self._release()
            raise
        self.addCleanup(self._release)

    def _release(self):
        subprocess.run(['losetup', '--detach', self.loop], check=False)
        subprocess.run(['rm', '-rf', self.workdir], check=False)

    def host_cdrom(self, path, **kw):
        return dict({'source': {'host_device': path}, 'device': 'cdrom'},
                    **kw)

    def test_boots_from_the_drive_and_delete_leaves_it(self):
        disk_marker = lh.new_marker('FROM-DISK')
        spec = self.spec([
            {'source': {'image': self.raw_image('disk.img', disk_marker)},
             'boot_index': 2},
            self.host_cdrom(self.loop, boot_index=1)])
        record = self.create(spec)
        uuid = spec['uuid']
        cdrom = record['disks'][1]
        self.assertEqual(('cdrom', self.loop, 'raw'), (
            cdrom['device'], cdrom['path'], cdrom['format']))
        output = lh.wait_for_console(self.agent, uuid, self.marker)
        self.assertNotIn(disk_marker.decode(), output)
        disk = lh.find_disk(lh.dumpxml(uuid), cdrom['target'])
        self.assertEqual(('block', 'cdrom', self.loop), (
            disk.get('type'), disk.get('device'),
            disk.find('source').get('dev')))
        # Nothing of the drive was copied into the instance or the cache.
        self.assertNotIn('disk.sda', os.listdir(self.instance_dir(uuid)))
        iso_digest = lh.sha256(self.iso)
        self.agent.call('delete_instance', uuid=uuid)
        self.assertNothingLeft(uuid)
        # The host's drive is as it was: still there, still the ISO's.
        self.assertTrue(os.path.exists(self.loop))
        self.assertEqual(iso_digest, lh.sha256(self.loop))

    def test_unlisted_and_non_block_devices_are_refused(self):
        for path, needle in (('/dev/loop-not-listed', 'host_cdrom_devices'),
                             (self.not_a_device, 'not a block device')):
            spec = self.spec([{'source': {'image': self.raw_image(
                'disk.img', lh.new_marker('UNUSED'))}},
                self.host_cdrom(path)])
            error = self.assertRaises(
                oslo_messaging.RemoteError, self.agent.call,
                'create_instance', spec=spec)
            self.assertEqual('InvalidSpec', error.exc_type, error)
            self.assertIn('disks[1].source.host_device', error.value)
            self.assertIn(needle, error.value)
            self.assertNothingLeft(spec['uuid'])
        self.assertTrue(os.path.exists(self.not_a_device))

    def test_change_media_is_refused(self):
        spec = self.spec([
            {'source': {'image': self.raw_image('disk.img',
                                                lh.new_marker('DISK'))}},
            self.host_cdrom(self.loop)])
        self.create(spec)
        self.assertRemoteError('InvalidSpec', self.agent.call,
                               'change_media', uuid=spec['uuid'],
                               target='sda', image=None)
        disk = lh.find_disk(lh.dumpxml(spec['uuid']), 'sda')
        self.assertEqual(self.loop, disk.find('source').get('dev'))
