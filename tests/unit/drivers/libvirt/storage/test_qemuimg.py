"""qemu-img wrappers: what is refused before any qemu-img runs, and
what qemu-img's failures become.

The wrappers run for real in tests/host.
"""

import os
import subprocess

import fixtures

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


class TestCommands(base.TestCase):
    """What each wrapper runs, without running it."""

    def setUp(self):
        super().setUp()
        self.run = self.useFixture(fixtures.MockPatch(
            'computeagent_libvirt.storage.qemuimg._run',
            side_effect=lambda cmd: subprocess.CompletedProcess(
                cmd, 0, '{}', ''))).mock

    def command(self):
        return self.run.call_args.args[0]

    def test_what_parses_an_image_runs_under_the_limits(self):
        self.flags(qemu_img_cpu_seconds=7, group='disk')
        for call in (
                lambda: qemuimg.info(self.conf, '/img', 'qcow2'),
                lambda: qemuimg.convert(self.conf, '/img', 'qcow2', '/d',
                                        'raw')):
            call()
            self.assertEqual(('prlimit', '--cpu=7'), self.command()[:2])
            self.assertIn('qemu-img', self.command())

    def test_what_writes_only_its_own_metadata_runs_bare(self):
        for call, args in (
                (lambda: qemuimg.create_overlay(self.conf, '/d', '/base',
                                                'raw'),
                 ('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', '/base',
                  '-F', 'raw', '/d')),
                (lambda: qemuimg.create_blank(self.conf, '/d', 'raw', 512),
                 ('qemu-img', 'create', '-q', '-f', 'raw', '/d', '512')),
                (lambda: qemuimg.resize(self.conf, '/d', 'raw', 1024),
                 ('qemu-img', 'resize', '-q', '-f', 'raw', '/d', '1024'))):
            call()
            self.assertEqual(args, self.command())

    def test_a_missing_program_is_a_driver_error(self):
        self.run.side_effect = FileNotFoundError(2, 'No such file',
                                                 'prlimit')
        error = self.assertRaises(exception.DriverError, qemuimg.info,
                                  self.conf, '/img', 'raw')
        self.assertIn('cannot run qemu-img', str(error))

    def test_a_silent_kill_names_the_limits(self):
        self.run.side_effect = lambda cmd: subprocess.CompletedProcess(
            cmd, -9, '', '')
        error = self.assertRaises(exception.DriverError, qemuimg.info,
                                  self.conf, '/img', 'raw')
        self.assertIn('exit code -9 (possibly over the [disk] qemu_img_* '
                      'resource limits)', str(error))


class TestFailures(base.TestCase):
    """qemu-img's failures, as it reports them, without a process."""

    def fail_with(self, stderr):
        self.useFixture(fixtures.MockPatch(
            'computeagent_libvirt.storage.qemuimg._run',
            side_effect=lambda cmd: subprocess.CompletedProcess(
                cmd, 1, '', stderr)))

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
