"""Room on the filesystem of the instances path, and running out of it.

What every driver reports of the filesystem holding ``[DEFAULT]
instances_path`` (:func:`host_disk`), in bytes, so that a small
filesystem is counted as it is and not rounded to whole GiB; and how a
write that finds no room left is told to the caller: the
``InsufficientResources`` of :func:`no_space`, naming the filesystem and
what was being written, raised wherever a create writes (qemu-img, the
image cache, the instance record) by :func:`out_of_room`.
"""

import contextlib
import errno
import os

from computeagent import exception

#: a write refused for want of room: the filesystem is full, or the
#: writer's quota is used up
NO_SPACE_ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT))
#: how the C library words those errors (``strerror``, LC_ALL=C): what
#: qemu-img prints on stderr where Python would give an errno
NO_SPACE_MESSAGES = ('No space left on device', 'Disk quota exceeded')


def host_disk(path):
    """The size and free room of the filesystem holding ``path``.

    Free is what a process without privileges may still write (statvfs'
    ``f_bavail``): ext4 keeps blocks for root that a guest's disk must
    not be counted on.

    :param path: ``[DEFAULT] instances_path``
    :returns: dict with ``disk_bytes`` and ``disk_bytes_free``
    :raises: DriverError if the filesystem cannot be read
    """
    try:
        stat = os.statvfs(path)
    except OSError as error:
        raise exception.DriverError(
            reason='cannot read the instances path: %s' % error)
    return {'disk_bytes': stat.f_blocks * stat.f_frsize,
            'disk_bytes_free': stat.f_bavail * stat.f_frsize}


def is_no_space(error):
    """Whether ``error`` comes of a write that found no room.

    The error itself or any it was raised from or while handling: an
    image source may report a failed download (``ImageNotFound``)
    raised while handling the ENOSPC of its write.

    :param error: an exception
    :returns: bool
    """
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in NO_SPACE_ERRNOS:
            return True
        error = error.__cause__ or error.__context__
    return False


def says_no_space(text):
    """Whether a tool's message (qemu-img's stderr) tells of no room.

    :param text: the message, in the C locale
    :returns: bool
    """
    return any(message in text for message in NO_SPACE_MESSAGES)


def mount_point(path):
    """The mount point of the filesystem that holds (or would hold) ``path``.

    :param path: a path; it and its parents need not all exist
    :returns: an absolute path
    """
    path = os.path.abspath(path)
    while not os.path.ismount(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def no_space(path, what):
    """The error of a write to ``path`` that found no room left.

    :param path: the file (or directory) being written
    :param what: what was written there, e.g. ``'qemu-img convert'``
    :returns: an InsufficientResources naming the filesystem, the path
        and ``what``
    """
    return exception.InsufficientResources(reason=(
        'no space left on the filesystem at %s writing %s (%s)'
        % (mount_point(path), path, what)))


@contextlib.contextmanager
def out_of_room(path, what):
    """Raise :func:`no_space` for any error of the block that comes of it.

    Other errors pass unchanged, and so does an InsufficientResources
    already raised.

    :param path: what the block writes
    :param what: what it writes there
    :raises: InsufficientResources
    """
    try:
        yield
    except exception.InsufficientResources:
        raise
    except Exception as error:
        if not is_no_space(error):
            raise
        raise no_space(path, what) from error
