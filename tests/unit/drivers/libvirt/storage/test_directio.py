"""The O_DIRECT probe."""

import errno
import os

import fixtures

from computeagent_libvirt.storage import directio
from tests import base


class TestProbeODirect(base.TestCase):

    def test_real_directory(self):
        # Whatever the file system answers, the answer is a bool and the
        # probe leaves nothing behind.
        self.assertIsInstance(directio.probe_o_direct(self.tmp), bool)
        self.assertEqual([], os.listdir(self.tmp))

    def _refuse_open_with(self, err):
        real_open = os.open

        def fake_open(path, flags, *args):
            if flags & os.O_DIRECT:
                if err == errno.EINVAL:
                    # As Linux does: the file is made, then O_DIRECT
                    # refused.
                    os.close(real_open(path, flags & ~os.O_DIRECT, *args))
                raise OSError(err, os.strerror(err), path)
            return real_open(path, flags, *args)
        self.useFixture(fixtures.MonkeyPatch(
            'computeagent_libvirt.storage.directio.os.open', fake_open))

    def test_einval_on_open_means_unsupported(self):
        self._refuse_open_with(errno.EINVAL)
        self.assertFalse(directio.probe_o_direct(self.tmp))
        self.assertEqual([], os.listdir(self.tmp))

    def test_einval_on_write_means_unsupported(self):
        def fake_write(fd, data):
            raise OSError(errno.EINVAL, 'Invalid argument')
        self.useFixture(fixtures.MonkeyPatch(
            'computeagent_libvirt.storage.directio.os.write', fake_write))
        self.assertFalse(directio.probe_o_direct(self.tmp))
        self.assertEqual([], os.listdir(self.tmp))

    def test_other_errors_are_raised(self):
        self._refuse_open_with(errno.EACCES)
        e = self.assertRaises(OSError, directio.probe_o_direct, self.tmp)
        self.assertEqual(errno.EACCES, e.errno)

    def test_missing_directory(self):
        e = self.assertRaises(OSError, directio.probe_o_direct,
                              os.path.join(self.tmp, 'missing'))
        self.assertEqual(errno.ENOENT, e.errno)

    def test_write_failure_cleans_up(self):
        def fake_write(fd, data):
            raise OSError(errno.ENOSPC, 'No space left on device')
        self.useFixture(fixtures.MonkeyPatch(
            'computeagent_libvirt.storage.directio.os.write', fake_write))
        self.assertRaises(OSError, directio.probe_o_direct, self.tmp)
        self.assertEqual([], os.listdir(self.tmp))
