"""Whether a directory's file system supports O_DIRECT.

QEMU opens disks with O_DIRECT for cache modes 'none' and 'directsync';
on a file system without it the guest fails to start, so the driver
probes ``[DEFAULT] instances_path`` once at start and the designer picks
the default cache mode from the answer.
"""

import errno
import mmap
import os
import uuid

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# O_DIRECT needs buffers, offsets and lengths aligned to the logical block
# size of the device; 4 KiB covers 512-byte and 4K-native disks alike.
_ALIGN = 4096


def probe_o_direct(path):
    """Write one aligned block with O_DIRECT to a temporary file in path.

    :param path: an existing directory
    :returns: True if the write succeeded, False if the file system
        refused O_DIRECT
    :raises: OSError for any other failure (missing directory,
        permissions, disk full): those are not an answer to the question
    """
    test_file = os.path.join(path, '.directio.%s' % uuid.uuid4().hex)
    try:
        fd = os.open(test_file,
                     os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_DIRECT,
                     0o600)
    except OSError as e:
        if e.errno == errno.EINVAL:
            # Linux creates the file before it refuses O_DIRECT (ramfs).
            try:
                os.unlink(test_file)
            except FileNotFoundError:
                pass
            LOG.info('%s does not support O_DIRECT (open: %s)', path, e)
            return False
        raise
    try:
        # An anonymous mmap is page-aligned, which O_DIRECT requires of
        # the buffer itself, not only of the length.
        with mmap.mmap(-1, _ALIGN) as buf:
            buf.write(b'\0' * _ALIGN)
            try:
                os.write(fd, buf)
            except OSError as e:
                if e.errno == errno.EINVAL:
                    LOG.info('%s does not support O_DIRECT (write: %s)',
                             path, e)
                    return False
                raise
        return True
    finally:
        os.close(fd)
        os.unlink(test_file)
