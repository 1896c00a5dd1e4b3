"""Image inspection with the real format inspector and qemu-img.

The cross-check's every answer is tested on its own in tests/unit; here
are images the two read differently for real.
"""

import json
import os
import shutil
import struct
import subprocess

from oslo_utils.imageutils import format_inspector
from oslo_utils import units

from tests import images
from tests.unit.drivers.libvirt.storage import test_imageinspect as \
    unit_inspect


def qemu_img_create(*args):
    subprocess.run(('qemu-img', 'create', '-q') + args, check=True)


class TestInspect(unit_inspect.InspectTestCase):

    def test_raw_with_mbr(self):
        path = images.write_raw_image(self.path('d'), b'R', size_mb=2)
        self.assertEqual({'format': 'raw', 'detected': 'gpt',
                          'virtual_size': 2 * units.Mi,
                          'size': 2 * units.Mi},
                         self.inspect(path, 'raw'))

    def test_unrecognised_content_is_raw(self):
        path = self.path('zeros')
        with open(path, 'wb') as f:
            f.truncate(units.Mi)
        found = self.inspect(path)
        self.assertEqual(('raw', 'raw'),
                         (found['format'], found['detected']))

    def test_qcow2(self):
        path = images.write_qcow2_image(self.path('q'), b'Q', size_mb=3)
        found = self.inspect(path, 'qcow2')
        self.assertEqual(('qcow2', 'qcow2', 3 * units.Mi),
                         (found['format'], found['detected'],
                          found['virtual_size']))

    def test_qcow2_with_backing_file(self):
        path = self.path('evil')
        qemu_img_create('-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw',
                        path)
        error = self.unsafe(path)
        self.assertIn('backing_file', str(error))
        error = self.unsafe(path, 'qcow2')
        self.assertIn('backing_file', str(error))

    def test_qcow2_with_data_file(self):
        path = self.path('evil')
        qemu_img_create('-f', 'qcow2', '-o',
                        'data_file=%s,data_file_raw=on' % self.path('df'),
                        path, '1M')
        error = self.unsafe(path)
        self.assertIn('data_file', str(error))

    def test_qcow2_declared_raw(self):
        path = images.write_qcow2_image(self.path('q'), b'Q')
        error = self.unsafe(path, 'raw')
        self.assertIn('declared raw but the content is qcow2', str(error))

    def test_other_formats_are_refused(self):
        for fmt, name in (('vmdk', 'vmdk'), ('vpc', 'vhd'), ('vdi', 'vdi'),
                          ('vhdx', 'vhdx'), ('qed', 'qed')):
            path = self.path('img.' + fmt)
            qemu_img_create('-f', fmt, path, '1M')
            error = self.unsafe(path)
            self.assertIn('format %s is not supported' % name, str(error))

    def test_iso_is_raw(self):
        path = images.make_iso(self.path('c.iso'), b'CD')
        found = self.inspect(path, 'raw')
        self.assertEqual(('raw', 'iso'), (found['format'], found['detected']))
        self.assertEqual(os.path.getsize(path), found['virtual_size'])

    def test_hybrid_iso_is_raw(self):
        # An ISO with an MBR in its system area, as distribution ISOs
        # carry: the inspector matches iso and gpt at once.
        path = images.make_iso(self.path('hybrid.iso'), b'CD')
        with open(path, 'r+b') as f:
            f.write(images.make_boot_sector(b'USB'))
        found = self.inspect(path, 'raw')
        self.assertEqual(('raw', 'iso'), (found['format'], found['detected']))

    def test_other_ambiguity_is_refused(self):
        # A qcow2 header with an MBR signature: qcow2 and gpt at once.
        path = images.write_qcow2_image(self.path('q'), b'Q')
        with open(path, 'r+b') as f:
            sector = bytearray(f.read(512))
            sector[446:462] = images.make_boot_sector(b'')[446:462]
            sector[510:512] = b'\x55\xaa'
            f.seek(0)
            f.write(sector)
        error = self.unsafe(path)
        self.assertIn('Multiple formats', str(error))

    def test_images_without_content_are_refused(self):
        path = self.path('zero.qcow2')
        qemu_img_create('-f', 'qcow2', path, '0')
        error = self.unsafe(path)
        self.assertIn('no content (virtual size 0)', str(error))
        empty = self.path('empty')
        open(empty, 'wb').close()
        error = self.unsafe(empty)
        self.assertIn('empty (0 bytes)', str(error))

    def test_virtual_size_too_large(self):
        self.flags(max_image_size_mb=2, group='image')
        path = self.path('big')
        qemu_img_create('-f', 'qcow2', path, '3M')
        self.assertLess(os.path.getsize(path), units.Mi)
        error = self.unsafe(path)
        self.assertIn('virtual size', str(error))

    def test_qemu_img_cross_check(self):
        # A header the inspector accepts but QEMU refuses: cluster_bits
        # (offset 20) out of range.
        path = images.write_qcow2_image(self.path('q'), b'Q')
        with open(path, 'r+b') as f:
            f.seek(20)
            f.write(struct.pack('>I', 40))
        error = self.unsafe(path)
        self.assertIn('qemu-img cannot open it as qcow2', str(error))

    def test_inspection_does_not_change_the_file(self):
        path = images.write_qcow2_image(self.path('q'), b'Q')
        shutil.copy(path, self.path('copy'))
        self.inspect(path)
        with open(path, 'rb') as a, open(self.path('copy'), 'rb') as b:
            self.assertEqual(a.read(), b.read())

    def test_data_file_only_qemu_img_sees(self):
        # The inspector looks for the "external data file" incompatible
        # feature bit (byte 0x4f, 0x04); QEMU reads the data file's name
        # from a header extension, and reports it with the bit clear.
        path = self.path('evil')
        qemu_img_create('-f', 'qcow2', '-o',
                        'data_file=%s' % self.path('df'), path, '1M')
        with open(path, 'r+b') as f:
            f.seek(0x4f)
            features = f.read(1)[0]
            self.assertEqual(0x04, features)
            f.seek(0x4f)
            f.write(bytes((features & ~0x04,)))
        # The inspector alone would take it ...
        inspector = format_inspector.detect_file_format(path)
        self.assertEqual('qcow2', str(inspector))
        inspector.safety_check()
        info = json.loads(subprocess.run(
            ['qemu-img', 'info', '-f', 'qcow2', '--output=json', path],
            check=True, stdout=subprocess.PIPE).stdout)
        self.assertEqual(self.path('df'),
                         info['format-specific']['data']['data-file'])
        # ... it is refused for what qemu-img said.
        error = self.unsafe(path, 'qcow2')
        self.assertIn('qemu-img reports an external data file', str(error))
