"""The test image builders of tests/images.py are what they claim.

Those that need nasm, qemu-img or xorriso are checked in tests/host.
"""

import os
import struct

from oslo_utils.imageutils import format_inspector

from tests import base
from tests import images


class TestBootSector(base.TestCase):

    def test_layout(self):
        sector = images.make_boot_sector(b'M', disk_sectors=4096)
        self.assertEqual(512, len(sector))
        self.assertEqual(b'\x55\xaa', sector[510:])
        boot, ostype, start, size = struct.unpack(
            '<B3xB3xII', sector[446:462])
        self.assertEqual((0x80, 0x83, 1, 4095), (boot, ostype, start, size))
        self.assertEqual(bytes(48), sector[462:510])

    def test_marker_limit(self):
        images.make_boot_sector(b'x' * images.MAX_MARKER)
        self.assertRaises(ValueError, images.make_boot_sector,
                          b'x' * (images.MAX_MARKER + 1))
        self.assertRaises(TypeError, images.make_boot_sector, 'text')

    def test_raw_image_passes_the_inspector(self):
        path = images.write_raw_image(os.path.join(self.tmp, 'd.raw'),
                                      b'R', size_mb=2)
        self.assertEqual(2 * images.MIB, os.path.getsize(path))
        inspector = format_inspector.detect_file_format(path)
        self.assertEqual('gpt', str(inspector))
        inspector.safety_check()
