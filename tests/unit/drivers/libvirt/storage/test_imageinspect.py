"""Image inspection: the real format inspector, qemu-img's answers given.

Each test here builds its image in Python (an MBR disk from
tests/images.py, or a qcow2 header) and runs oslo.utils' format inspector
for real; qemu-img's ``info`` is replaced by the answer under test. So
the cross-check with qemu-img is exercised on its own: every image below
passes the inspector, and only qemu-img's answer can refuse it. The same
checks against the real qemu-img are in tests/host.
"""

import os
import struct

import fixtures
from oslo_utils.imageutils import format_inspector
from oslo_utils import units

from computeagent import exception
from computeagent_libvirt.storage import imageinspect
from tests import base
from tests import images


def write_qcow2_header(path, virtual_size=units.Mi):
    """A qcow2 v3 header with no backing file, data file or features.

    Enough for the inspector, which reads only the first 512 bytes; no
    QEMU could open it (it has no L1 or refcount table).
    """
    header = struct.pack('>4sIQIIQ', b'QFI\xfb', 3, 0, 0, 16, virtual_size)
    with open(path, 'wb') as f:
        f.write(header.ljust(64 * units.Ki, b'\0'))
    return path


class InspectTestCase(base.TestCase):

    def path(self, name):
        return os.path.join(self.tmp, name)

    def inspect(self, path, declared=None):
        return imageinspect.inspect_image(self.conf, path, 'the-ref', declared)

    def unsafe(self, path, declared=None):
        return self.assertRaises(exception.ImageUnsafe, self.inspect, path,
                                 declared)


class TestInspectorAlone(InspectTestCase):
    """Refusals the inspector decides; qemu-img is never asked."""

    def test_mbr_without_partitions_is_unsafe(self):
        path = self.path('nopart')
        with open(path, 'wb') as f:
            f.write(bytes(510) + b'\x55\xaa')
            f.truncate(units.Mi)
        error = self.unsafe(path)
        self.assertIn('mbr', str(error))

    def test_raw_declared_qcow2(self):
        path = images.write_raw_image(self.path('r'), b'R')
        error = self.unsafe(path, 'qcow2')
        self.assertIn('declared qcow2', str(error))

    def test_an_empty_file_is_unsafe(self):
        path = self.path('empty')
        open(path, 'wb').close()
        for declared in (None, 'raw'):
            error = self.unsafe(path, declared)
            self.assertIn('empty (0 bytes)', str(error))

    def test_file_too_large(self):
        self.flags(max_image_size_mb=1, group='image')
        path = images.write_raw_image(self.path('r'), b'R', size_mb=2)
        error = self.unsafe(path)
        self.assertIn('max_image_size_mb', str(error))


class TestQemuImgCrossCheck(InspectTestCase):
    """What qemu-img says decides, whatever the inspector accepted."""

    def setUp(self):
        super().setUp()
        self.asked = []
        self.answer = None
        self.useFixture(fixtures.MonkeyPatch(
            'computeagent_libvirt.storage.qemuimg.info', self._info))
        self.qcow2 = write_qcow2_header(self.path('q'))
        self.raw = images.write_raw_image(self.path('r'), b'R', size_mb=2)
        for path, name in ((self.qcow2, 'qcow2'), (self.raw, 'gpt')):
            # The premise of every test: the inspector alone takes them.
            inspector = format_inspector.detect_file_format(path)
            self.assertEqual(name, str(inspector))
            inspector.safety_check()

    def _info(self, conf, path, fmt, force_share=False):
        self.asked.append((path, fmt))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def qemu_img_says(self, fmt='qcow2', virtual_size=units.Mi, **extra):
        self.answer = dict({'format': fmt, 'virtual-size': virtual_size},
                           **extra)

    def test_a_clean_answer_is_accepted_with_qemu_imgs_size(self):
        # The header says 1 MiB; the size used is the one qemu-img read.
        self.qemu_img_says(virtual_size=5 * units.Mi)
        self.assertEqual({'format': 'qcow2', 'detected': 'qcow2',
                          'virtual_size': 5 * units.Mi,
                          'size': 64 * units.Ki},
                         self.inspect(self.qcow2, 'qcow2'))
        self.assertEqual([(self.qcow2, 'qcow2')], self.asked)

    def test_qemu_img_opens_the_format_the_inspector_found(self):
        self.qemu_img_says('raw', 2 * units.Mi)
        self.assertEqual('raw', self.inspect(self.raw)['format'])
        self.assertEqual([(self.raw, 'raw')], self.asked)

    def test_another_format_is_refused(self):
        self.qemu_img_says('qcow2', 2 * units.Mi)
        error = self.unsafe(self.raw)
        self.assertIn("qemu-img reports format 'qcow2', not 'raw'",
                      str(error))

    def test_a_backing_file_is_refused(self):
        for key in ('backing-filename', 'full-backing-filename'):
            self.qemu_img_says(**{key: '/etc/shadow'})
            error = self.unsafe(self.qcow2)
            self.assertIn('qemu-img reports a backing file', str(error))

    def test_an_external_data_file_is_refused(self):
        self.qemu_img_says(**{'format-specific': {
            'type': 'qcow2', 'data': {'data-file': '/dev/sda'}}})
        error = self.unsafe(self.qcow2)
        self.assertIn('qemu-img reports an external data file', str(error))

    def test_no_virtual_size_is_refused(self):
        for size in (None, -1, '1048576'):
            self.qemu_img_says(virtual_size=size)
            error = self.unsafe(self.qcow2)
            self.assertIn('qemu-img reports no virtual size', str(error))

    def test_a_virtual_size_of_zero_is_refused(self):
        self.qemu_img_says(virtual_size=0)
        error = self.unsafe(self.qcow2)
        self.assertIn('no content (virtual size 0)', str(error))

    def test_a_virtual_size_over_the_limit_is_refused(self):
        self.flags(max_image_size_mb=2, group='image')
        self.qemu_img_says(virtual_size=3 * units.Mi)
        error = self.unsafe(self.qcow2)
        self.assertIn('virtual size %d bytes' % (3 * units.Mi), str(error))

    def test_an_image_qemu_img_cannot_open_is_refused(self):
        self.answer = exception.DriverError(
            reason="qemu-img info: Image is not in qcow2 format")
        error = self.unsafe(self.qcow2)
        self.assertIn('qemu-img cannot open it as qcow2: qemu-img info: '
                      'Image is not in qcow2 format', str(error))
