"""qemu-img wrappers, run for real on small files."""

import os
import sys

from oslo_concurrency import processutils
from oslo_utils import units

from computeagent import exception
from computeagent_libvirt.storage import qemuimg
from tests import base
from tests import images


class TestQemuImg(base.TestCase):

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_create_blank(self):
        for fmt in ('raw', 'qcow2'):
            path = self.path('blank.' + fmt)
            qemuimg.create_blank(self.conf, path, fmt, 3 * units.Mi)
            info = qemuimg.info(self.conf, path, fmt)
            self.assertEqual(fmt, info['format'])
            self.assertEqual(3 * units.Mi, info['virtual-size'])

    def test_overlay(self):
        base_path = images.write_raw_image(self.path('base'), b'B')
        overlay = self.path('overlay')
        qemuimg.create_overlay(self.conf, overlay, base_path, 'raw')
        info = qemuimg.info(self.conf, overlay, 'qcow2')
        self.assertEqual(base_path, info['backing-filename'])
        self.assertEqual('raw', info['backing-filename-format'])
        self.assertEqual(units.Mi, info['virtual-size'])

    def test_overlay_with_size(self):
        base_path = images.write_qcow2_image(self.path('base'), b'B')
        overlay = self.path('overlay')
        qemuimg.create_overlay(self.conf, overlay, base_path, 'qcow2',
                               4 * units.Mi)
        info = qemuimg.info(self.conf, overlay, 'qcow2')
        self.assertEqual('qcow2', info['backing-filename-format'])
        self.assertEqual(4 * units.Mi, info['virtual-size'])

    def test_convert_and_resize(self):
        source = images.write_qcow2_image(self.path('src'), b'C')
        dest = self.path('dest')
        qemuimg.convert(self.conf, source, 'qcow2', dest, 'raw')
        with open(dest, 'rb') as f:
            self.assertEqual(images.make_boot_sector(b'C'), f.read(512))
        qemuimg.resize(self.conf, dest, 'raw', 2 * units.Mi)
        self.assertEqual(2 * units.Mi, os.path.getsize(dest))

    def test_paths_are_never_shell_words(self):
        path = self.path('a b; touch pwned $(id)')
        qemuimg.create_blank(self.conf, path, 'raw', units.Mi)
        self.assertTrue(os.path.exists(path))
        self.assertFalse(os.path.exists('pwned'))
        self.assertFalse(os.path.exists(self.path('pwned')))

    def test_failure_carries_qemu_img_message(self):
        error = self.assertRaises(exception.DriverError, qemuimg.info,
                                  self.conf, self.path('missing'), 'raw')
        self.assertIn('Could not open', str(error))
        self.assertIn('qemu-img info', str(error))

    def test_declared_format_is_enforced_by_qemu_img(self):
        # qemu-img opens what it is told to, it does not probe.
        path = images.write_raw_image(self.path('raw'), b'R')
        error = self.assertRaises(exception.DriverError, qemuimg.info,
                                  self.conf, path, 'qcow2')
        self.assertIn('not in qcow2 format', str(error))

    def test_limits_come_from_config_and_reach_the_process(self):
        self.flags(qemu_img_cpu_seconds=7, qemu_img_address_space_mb=100,
                   group='disk')
        # Run the very prefix qemu-img gets, in front of a process that
        # reports the limits the kernel holds for it.
        probe = ('import resource; print(*resource.getrlimit('
                 'resource.RLIMIT_CPU), *resource.getrlimit('
                 'resource.RLIMIT_AS))')
        out, _err = processutils.execute(
            *(qemuimg._limited(self.conf) + (sys.executable, '-c', probe)))
        self.assertEqual(['7', '7', str(100 * units.Mi),
                          str(100 * units.Mi)], out.split())
