"""The test image builders of tests/images.py are what they claim."""

import os
import shutil
import subprocess

from oslo_utils.imageutils import format_inspector

from tests import base
from tests import images

_ASM = """bits 16
org 0x7c00
mov dx, 0x3f8
%s
%s
cli
hlt
jmp $-1
"""
_POWEROFF_ASM = """mov dx, 0x604
mov ax, 0x2000
out dx, ax"""


class TestBootSector(base.TestCase):

    def _nasm(self, marker, poweroff=False):
        if not shutil.which('nasm'):
            self.skipTest('nasm is not installed')
        body = '\n'.join('mov al, %d\nout dx, al' % b for b in marker)
        src = os.path.join(self.tmp, 'boot.asm')
        out = os.path.join(self.tmp, 'boot.bin')
        with open(src, 'w') as f:
            f.write(_ASM % (body, _POWEROFF_ASM if poweroff else ''))
        subprocess.run(['nasm', '-f', 'bin', '-o', out, src], check=True)
        with open(out, 'rb') as f:
            return f.read()

    def test_code_is_what_nasm_assembles(self):
        code = self._nasm(b'Hi!')
        self.assertEqual(code, images.make_boot_sector(b'Hi!')[:len(code)])

    def test_poweroff_code_is_what_nasm_assembles(self):
        code = self._nasm(b'Z', poweroff=True)
        self.assertEqual(code,
                         images.make_poweroff_sector(b'Z')[:len(code)])

    def test_parallel_code_is_what_nasm_assembles(self):
        if not shutil.which('nasm'):
            self.skipTest('nasm is not installed')
        body = '\n'.join(
            'mov al, %d\nout dx, al\nmov dl, 0x7a\nmov al, 0x0d\n'
            'out dx, al\nmov al, 0x0c\nout dx, al\nmov dl, 0x78' % b
            for b in b'Hi!')
        src = os.path.join(self.tmp, 'lpt.asm')
        out = os.path.join(self.tmp, 'lpt.bin')
        with open(src, 'w') as f:
            f.write('bits 16\norg 0x7c00\nmov dx, 0x378\n%s\n'
                    'cli\nhlt\njmp $-1\n' % body)
        subprocess.run(['nasm', '-f', 'bin', '-o', out, src], check=True)
        with open(out, 'rb') as f:
            code = f.read()
        self.assertEqual(code,
                         images.make_parallel_sector(b'Hi!')[:len(code)])
        self.assertRaises(ValueError, images.make_parallel_sector,
                          b'x' * (images.MAX_PARALLEL_MARKER + 1))

    def test_qcow2_image(self):
        path = images.write_qcow2_image(os.path.join(self.tmp, 'd.qcow2'),
                                        b'Q')
        inspector = format_inspector.detect_file_format(path)
        self.assertEqual('qcow2', str(inspector))
        self.assertEqual(images.MIB, inspector.virtual_size)
        inspector.safety_check()

    def test_iso(self):
        path = images.make_iso(os.path.join(self.tmp, 'c.iso'), b'ISO')
        inspector = format_inspector.detect_file_format(path)
        self.assertEqual('iso', str(inspector))
        inspector.safety_check()
        with open(path, 'rb') as f:
            data = f.read()
        # The El Torito boot image is in there, padded to 2048 bytes.
        boot = images.make_boot_sector(b'ISO').ljust(2048, b'\0')
        self.assertIn(boot, data)
