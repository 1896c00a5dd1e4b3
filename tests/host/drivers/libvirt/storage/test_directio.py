"""The O_DIRECT probe on the host's real file systems.

The unit tests give the probe each answer the kernel could give; these
check that it reads the kernel's real answers: yes on a disk file system,
no on ramfs, which has no direct I/O (tmpfs has it since Linux 6.6, so it
is no longer the example of a "no").
"""

import ctypes
import os
import time

from computeagent_libvirt.storage import directio
from tests import base

# File systems that have always supported O_DIRECT.
_DIRECT_IO_FS = ('ext4', 'xfs', 'btrfs')
_CLONE_NEWNS = 0x20000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000


def fs_type(path):
    """The type of the file system ``path`` is on, from mountinfo."""
    path = os.path.realpath(path)
    best, best_type = '', None
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields, _sep, rest = line.partition(' - ')
            mount_point = fields.split()[4].replace('\\040', ' ')
            if (os.path.commonpath([path, mount_point]) == mount_point
                    and len(mount_point) >= len(best)):
                best, best_type = mount_point, rest.split()[0]
    return best_type


class TestProbeOnTheHost(base.TestCase):

    def test_yes_on_a_file_system_with_direct_io(self):
        os.makedirs(self.conf.instances_path)
        for path in (self.conf.instances_path, '/var/tmp',
                     os.path.dirname(os.path.abspath(__file__))):
            if fs_type(path) in _DIRECT_IO_FS:
                break
        else:
            self.skipTest('no directory on %s here' % ', '.join(
                _DIRECT_IO_FS))
        before = os.listdir(path)
        self.assertIs(True, directio.probe_o_direct(path),
                      '%s is on %s' % (path, fs_type(path)))
        self.assertEqual(before, os.listdir(path))

    def test_no_on_ramfs(self):
        # ramfs is mounted in a child in a mount namespace of its own:
        # the host never sees it, and it goes when the child exits.
        mount_point = os.path.join(self.tmp, 'ramfs')
        os.mkdir(mount_point)
        pid = os.fork()
        if pid == 0:
            os._exit(self._probe_on_ramfs(mount_point))
        status = self._wait(pid)
        if status == 3:
            self.skipTest('cannot mount ramfs in a mount namespace here '
                          '(needs CAP_SYS_ADMIN)')
        self.assertEqual(1, status, '0: O_DIRECT worked, 1: refused, '
                                    '2: the probe raised, 4: it left a file')

    @staticmethod
    def _probe_on_ramfs(mount_point):
        # In the child: 0 for True, 1 for False, 2 if the probe raised, 3
        # if ramfs could not be mounted, 4 if the probe left a file.
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if (libc.unshare(_CLONE_NEWNS)
                    or libc.mount(b'none', b'/', None, _MS_REC | _MS_PRIVATE,
                                  None)
                    or libc.mount(b'ramfs', mount_point.encode(), b'ramfs',
                                  0, None)):
                return 3
            if fs_type(mount_point) != 'ramfs':
                return 3
            answer = directio.probe_o_direct(mount_point)
            if os.listdir(mount_point):
                return 4
            return 0 if answer else 1
        except BaseException:
            return 2

    def _wait(self, pid, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        self.fail('the ramfs probe did not finish in %d s' % timeout)
