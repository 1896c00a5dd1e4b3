"""Room on the instances path's filesystem (computeagent.virt.diskspace)."""

import errno
import os

import fixtures
from oslo_utils import units

from computeagent import exception
from computeagent.virt import diskspace
from tests import base


def enospc(path='/x'):
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


class FakeStat(object):

    f_frsize = 4096
    f_blocks = 16512        # 64.5 MiB
    f_bfree = 1000
    f_bavail = 768          # 3 MiB; ext4 keeps the rest for root


class TestHostDisk(base.TestCase):

    def test_bytes_to_the_block(self):
        self.useFixture(fixtures.MockPatch('os.statvfs',
                                           return_value=FakeStat()))
        self.assertEqual({'disk_bytes': 64 * units.Mi + 512 * units.Ki,
                          'disk_bytes_free': 3 * units.Mi},
                         diskspace.host_disk(self.tmp))

    def test_a_real_filesystem(self):
        room = diskspace.host_disk(self.tmp)
        stat = os.statvfs(self.tmp)
        self.assertEqual(stat.f_blocks * stat.f_frsize, room['disk_bytes'])
        self.assertLessEqual(room['disk_bytes_free'], room['disk_bytes'])

    def test_an_unreadable_path_is_a_driver_error(self):
        error = self.assertRaises(exception.DriverError, diskspace.host_disk,
                                  os.path.join(self.tmp, 'missing'))
        self.assertIn('cannot read the instances path', str(error))


class TestRecognising(base.TestCase):

    def test_errnos(self):
        self.assertTrue(diskspace.is_no_space(enospc()))
        self.assertTrue(diskspace.is_no_space(
            OSError(errno.EDQUOT, 'Disk quota exceeded')))
        self.assertFalse(diskspace.is_no_space(
            OSError(errno.EACCES, 'Permission denied')))
        self.assertFalse(diskspace.is_no_space(ValueError('no')))
        self.assertFalse(diskspace.is_no_space(None))

    def test_an_error_raised_while_handling_one(self):
        # What the http image source does with a write that failed.
        try:
            try:
                raise enospc()
            except OSError as error:
                raise exception.ImageNotFound(image='i', reason=str(error))
        except exception.ImageNotFound as error:
            self.assertTrue(diskspace.is_no_space(error))

    def test_an_error_raised_from_one(self):
        outer = RuntimeError('wrapped')
        outer.__cause__ = enospc()
        self.assertTrue(diskspace.is_no_space(outer))

    def test_a_loop_of_errors_ends(self):
        first, second = RuntimeError('a'), RuntimeError('b')
        first.__context__, second.__context__ = second, first
        self.assertFalse(diskspace.is_no_space(first))

    def test_qemu_img_messages(self):
        self.assertTrue(diskspace.says_no_space(
            'qemu-img: error while writing at byte 23068672: No space left '
            'on device'))
        self.assertTrue(diskspace.says_no_space(
            'qemu-img: /x/disk: Disk quota exceeded'))
        self.assertFalse(diskspace.says_no_space(
            "qemu-img: Could not open '/x': No such file or directory"))


class TestNoSpace(base.TestCase):

    def test_mount_point(self):
        path = os.path.join(self.tmp, 'not', 'there', 'yet')
        mount = diskspace.mount_point(path)
        self.assertTrue(os.path.ismount(mount))
        self.assertTrue(path.startswith(mount.rstrip('/') + '/'))
        self.assertEqual('/', diskspace.mount_point('/'))

    def test_the_error_names_filesystem_path_and_what(self):
        self.useFixture(fixtures.MockPatch(
            'os.path.ismount', side_effect=lambda p: p in ('/', '/srv')))
        error = diskspace.no_space('/srv/instances/u/disk', 'qemu-img convert')
        self.assertIsInstance(error, exception.InsufficientResources)
        self.assertEqual(
            'The host cannot fit the instance: no space left on the '
            'filesystem at /srv writing /srv/instances/u/disk (qemu-img '
            'convert)', str(error))

    @staticmethod
    def raise_in(error, path='/b', what='the test'):
        with diskspace.out_of_room(path, what):
            raise error

    def test_out_of_room_maps_no_space_only(self):
        path = os.path.join(self.tmp, 'f')
        cause = enospc(path)
        error = self.assertRaises(exception.InsufficientResources,
                                  self.raise_in, cause, path)
        self.assertIn('writing %s (the test)' % path, str(error))
        self.assertIs(cause, error.__cause__)
        for other in (OSError(errno.EIO, 'I/O error'),
                      exception.DriverError(reason='no')):
            self.assertIs(other, self.assertRaises(
                type(other), self.raise_in, other, path))

    def test_out_of_room_keeps_an_insufficient_resources(self):
        first = diskspace.no_space('/a', 'inner')
        first.__cause__ = enospc()
        self.assertIs(first, self.assertRaises(
            exception.InsufficientResources, self.raise_in, first))
