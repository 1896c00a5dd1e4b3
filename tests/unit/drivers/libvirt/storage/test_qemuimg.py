"""qemu-img wrappers: what is refused before any qemu-img runs, and
what qemu-img's failures become.

The wrappers run for real in tests/host.
"""

import os

import fixtures
from oslo_concurrency import processutils

from computeagent import exception
from computeagent_libvirt.storage import qemuimg
from tests import base


class TestQemuImg(base.TestCase):

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_only_known_formats(self):
        path = self.path('x')
        for call in (
                lambda: qemuimg.create_blank(self.conf, path, 'vmdk', 1),
                lambda: qemuimg.create_overlay(self.conf, path, path, 'vmdk'),
                lambda: qemuimg.convert(self.conf, path, 'raw', path, 'vdi'),
                lambda: qemuimg.resize(self.conf, path, 'qed', 1)):
            self.assertRaises(exception.DriverError, call)
        self.assertFalse(os.path.exists(path))


class TestFailures(base.TestCase):
    """qemu-img's failure, as processutils reports it, without a process."""

    def fail_with(self, stderr):
        self.useFixture(fixtures.MockPatch(
            'oslo_concurrency.processutils.execute',
            side_effect=processutils.ProcessExecutionError(
                exit_code=1, stderr=stderr)))

    def test_no_space_while_writing_is_insufficient_resources(self):
        self.fail_with('qemu-img: error while writing at byte 4194304: '
                       'No space left on device\n')
        dest = os.path.join(self.tmp, 'instances', 'disk')
        for call, what in (
                (lambda: qemuimg.convert(self.conf, '/img', 'raw', dest,
                                         'raw'), 'convert'),
                (lambda: qemuimg.create_blank(self.conf, dest, 'qcow2', 1),
                 'create'),
                (lambda: qemuimg.create_overlay(self.conf, dest, '/img',
                                                'raw'), 'create'),
                (lambda: qemuimg.resize(self.conf, dest, 'raw', 1),
                 'resize')):
            error = self.assertRaises(exception.InsufficientResources, call)
            self.assertIn('no space left on the filesystem at ', str(error))
            self.assertIn('writing %s (qemu-img %s)' % (dest, what),
                          str(error))

    def test_a_quota_is_no_room_either(self):
        self.fail_with('qemu-img: error while writing at byte 0: Disk quota '
                       'exceeded')
        self.assertRaises(exception.InsufficientResources, qemuimg.convert,
                          self.conf, '/img', 'raw', self.tmp + '/d', 'raw')

    def test_other_failures_stay_driver_errors(self):
        self.fail_with("qemu-img: Could not open '/img': No such file or "
                       "directory")
        error = self.assertRaises(exception.DriverError, qemuimg.convert,
                                  self.conf, '/img', 'raw',
                                  self.tmp + '/d', 'raw')
        self.assertIn('qemu-img convert: qemu-img: Could not open', str(error))

    def test_a_read_is_never_short_of_room(self):
        # info writes nothing: whatever it says is qemu-img's failure.
        self.fail_with('No space left on device')
        self.assertRaises(exception.DriverError, qemuimg.info, self.conf,
                          '/img', 'raw')
