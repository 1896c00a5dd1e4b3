"""A small filesystem to fill up, and images that fill it.

:class:`SmallFilesystem` mounts a tmpfs of a few MiB (root only: the
host and functional tiers run as root on these machines) so that a test
can watch qemu-img, the image cache or the agent run out of room for
real; :func:`write_full_raw_image` writes an image with no holes, which
no copy can keep sparse. Used by tests/host and tests/functional.
"""

import os
import subprocess

import fixtures

from tests import images


class SmallFilesystem(fixtures.Fixture):
    """A tmpfs of ``size_mb`` MiB mounted on ``path`` (made if missing).

    Unmounted at clean-up (lazily, should a process still hold a file
    there), leaving ``path`` an empty directory.

    :param path: the mount point
    :param size_mb: its size in MiB
    """

    def __init__(self, path, size_mb):
        super().__init__()
        self.path = path
        self.size_mb = size_mb

    def _setUp(self):
        os.makedirs(self.path, exist_ok=True)
        # mode: QEMU (libvirt-qemu) must reach the disks under it.
        subprocess.run(['mount', '-t', 'tmpfs', '-o',
                        'size=%dm,mode=0755' % self.size_mb,
                        'computeagent-test', self.path], check=True)
        self.addCleanup(subprocess.run, ['umount', '--lazy', self.path],
                        check=True)

    def free_bytes(self):
        """What ``df`` shows as available."""
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def fill(self, name, size_mb):
        """Take ``size_mb`` MiB of the room with a file of the test's.

        :returns: the file's path
        """
        path = os.path.join(self.path, name)
        with open(path, 'wb') as f:
            f.write(os.urandom(size_mb * images.MIB))
        return path


def write_full_raw_image(path, marker, size_mb):
    """A raw image of ``size_mb`` MiB that boots to ``marker``.

    Past its first MiB (the boot sector, then zeros, so that image
    inspection sees a plain MBR disk) it is random bytes.

    :returns: ``path``
    """
    images.write_raw_image(path, marker, size_mb)
    with open(path, 'r+b') as f:
        f.seek(images.MIB)
        f.write(os.urandom((size_mb - 1) * images.MIB))
    return path
