"""Real QEMU guests: what the firmware boots, and where the disk lives.

The boot sectors print a marker to COM1 and halt, so the console log
says which device SeaBIOS really booted.
"""

import os

from tests.functional import libvirt_helpers as lh


class TestBoot(lh.LibvirtTestCase):

    shared_agent = True

    def test_boots_virtio_qcow2_overlay_on_a_base_image(self):
        marker = lh.new_marker('BOOT-QCOW2')
        spec = self.spec([{'source': {'image': self.qcow2_image(
            'boot.qcow2', marker)}, 'boot_index': 1}])
        record = self.create(spec)
        uuid = spec['uuid']
        disk_file = os.path.join(self.instance_dir(uuid), 'disk')
        self.assertEqual([{'target': 'vda', 'device': 'disk',
                           'bus': 'virtio', 'path': disk_file,
                           'format': 'qcow2', 'boot_index': 1,
                           'snapshot': False}],
                         [{k: d[k] for k in ('target', 'device', 'bus',
                                             'path', 'format', 'boot_index',
                                             'snapshot')}
                          for d in record['disks']])
        self.assertEqual(self.console_file(uuid), record['console_log'])

        lh.wait_for_console(self.agent, uuid, marker)
        # The file itself, as virtlogd wrote it.
        self.assertIn(marker, self.read_console_file(uuid))

        # The disk is a qcow2 overlay on a file of _base, which is the
        # image as it was given.
        chain = lh.qemu_img_info(disk_file, chain=True)
        self.assertEqual('qcow2', chain[0]['format'])
        base = chain[0]['full-backing-filename']
        self.assertEqual(self.base_dir(), os.path.dirname(base))
        self.assertEqual('qcow2', chain[0]['backing-filename-format'])
        self.assertEqual(2, len(chain), chain)
        self.assertNotIn('backing-filename', chain[1])
        self.assertEqual(lh.sha256(self.image_path('boot.qcow2')),
                         lh.sha256(base))

        # The live guest opens that very file, over virtio.
        disk = lh.find_disk(lh.dumpxml(uuid), 'vda')
        self.assertEqual(disk_file, disk.find('source').get('file'))
        self.assertEqual('virtio', disk.find('target').get('bus'))
        self.assertEqual('qcow2', disk.find('driver').get('type'))
        self.assertEqual('1', disk.find('boot').get('order'))

    def _boot_two_disks(self, first_index, second_index):
        markers = (lh.new_marker('DISK-ONE'), lh.new_marker('DISK-TWO'))
        spec = self.spec([
            {'source': {'image': self.raw_image('one-%s.img' % first_index,
                                                markers[0])},
             'boot_index': first_index},
            {'source': {'image': self.raw_image('two-%s.img' % first_index,
                                                markers[1])},
             'boot_index': second_index}])
        self.create(spec)
        return spec['uuid'], markers

    def test_lower_boot_index_boots_and_swapping_swaps(self):
        uuid, (one, two) = self._boot_two_disks(1, 2)
        output = lh.wait_for_console(self.agent, uuid, one)
        uuid2, (one2, two2) = self._boot_two_disks(2, 1)
        output2 = lh.wait_for_console(self.agent, uuid2, two2)
        # Each guest halts after its marker: the other disk never ran.
        self.assertNotIn(two.decode(), output)
        self.assertNotIn(one2.decode(), output2)
        self.assertNotIn(one2, self.read_console_file(uuid2))
        self.assertNotIn(two, self.read_console_file(uuid))

    def _cdrom_boots_first(self, bus):
        disk_marker = lh.new_marker('FROM-DISK')
        cd_marker = lh.new_marker('FROM-CDROM-' + bus.upper())
        spec = self.spec([
            {'source': {'image': self.raw_image('disk.img', disk_marker)},
             'boot_index': 2},
            {'source': {'image': self.iso_image('boot.iso', cd_marker)},
             'device': 'cdrom', 'bus': bus, 'boot_index': 1}])
        record = self.create(spec)
        cdrom = record['disks'][1]
        self.assertEqual(('cdrom', bus), (cdrom['device'], cdrom['bus']))
        output = lh.wait_for_console(self.agent, spec['uuid'], cd_marker)
        self.assertNotIn(disk_marker.decode(), output)
        disk = lh.find_disk(lh.dumpxml(spec['uuid']), cdrom['target'])
        self.assertEqual('cdrom', disk.get('device'))
        self.assertEqual(bus, disk.find('target').get('bus'))
        self.assertIsNotNone(disk.find('readonly'))

    def test_ide_cdrom_with_boot_index_1_boots_before_the_disk(self):
        self._cdrom_boots_first('ide')

    def test_sata_cdrom_with_boot_index_1_boots_before_the_disk(self):
        self._cdrom_boots_first('sata')
