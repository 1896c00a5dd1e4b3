"""Images that are files in a local directory (``[image] directory``).

A reference is a relative file name inside that directory, for example
``cirros.qcow2`` or ``isos/tools.iso``. It never resolves outside it:
absolute names, ``..`` components and symbolic links whose target lies
outside are refused as not found, and only regular files are images.

The identity of an image is a sha256 over its resolved name and its file
metadata (device, inode, size, mtime and ctime in nanoseconds), not over
its content: hashing a multi-gigabyte file on every request costs a full
read, while replacing or rewriting the file changes the inode or the
ctime, which no user can set back. A file modified in place within the
file system's timestamp granularity, keeping its size, would go unnoticed;
the image cache re-reads the identity after fetching to catch a change
during the copy.
"""

import errno
import hashlib
import os
import stat

from oslo_log import log as logging
from oslo_utils import units

from computeagent import exception
from computeagent.images import source

LOG = logging.getLogger(__name__)

_CHUNK = 64 * units.Ki
_ZEROS = bytes(_CHUNK)


class DirectoryImageSource(source.ImageSource):
    """Image references are file names in ``[image] directory``."""

    name = 'directory'

    @property
    def directory(self):
        return os.path.realpath(self.conf.image.directory)

    def _resolve(self, ref):
        """The real path of ``ref`` inside the directory, and its stat.

        :raises: ImageNotFound
        """
        if not isinstance(ref, str) or not ref.strip():
            raise exception.ImageNotFound(
                image=ref, reason='the reference must be a file name')
        if '\0' in ref or os.path.isabs(ref):
            raise exception.ImageNotFound(
                image=ref, reason='the reference must be a relative name '
                                  'inside the image directory')
        if '..' in ref.split('/'):
            raise exception.ImageNotFound(
                image=ref, reason='".." is not allowed in a reference')
        base = self.directory
        path = os.path.realpath(os.path.join(base, ref))
        # realpath has followed every symlink; what counts is where the
        # file really is.
        if os.path.commonpath([base, path]) != base or path == base:
            raise exception.ImageNotFound(
                image=ref, reason='it resolves outside the image directory')
        try:
            st = os.stat(path)
        except OSError as error:
            raise exception.ImageNotFound(
                image=ref, reason=os.strerror(error.errno))
        if not stat.S_ISREG(st.st_mode):
            raise exception.ImageNotFound(image=ref,
                                          reason='not a regular file')
        return path, st

    def identity(self, ref):
        """``dir-`` and a sha256 of the resolved name and file metadata.

        :raises: ImageNotFound
        """
        path, st = self._resolve(ref)
        name = os.path.relpath(path, self.directory)
        fields = (name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                  st.st_ctime_ns)
        digest = hashlib.sha256(repr(fields).encode('utf-8')).hexdigest()
        return 'dir-' + digest

    def local_path(self, ref):
        """The image file itself, resolved inside the directory.

        :raises: ImageNotFound
        """
        return self._resolve(ref)[0]

    def fetch(self, ref, dest_path):
        """Copy the file to ``dest_path``, keeping holes as holes.

        :raises: ImageNotFound, ImageUnsafe (larger than
            ``[image] max_image_size_mb``)
        """
        path, _st = self._resolve(ref)
        try:
            # O_NOFOLLOW: the resolved path has no symlinks; should one be
            # swapped in since, refuse it rather than follow it.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as error:
            raise exception.ImageNotFound(
                image=ref, reason=os.strerror(error.errno))
        with open(fd, 'rb') as src:
            st = os.fstat(src.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise exception.ImageNotFound(image=ref,
                                              reason='not a regular file')
            limit = self.conf.image.max_image_size_mb * units.Mi
            if st.st_size > limit:
                raise exception.ImageUnsafe(
                    image=ref,
                    reason='%d bytes is more than [image] '
                           'max_image_size_mb (%d MiB)'
                           % (st.st_size, self.conf.image.max_image_size_mb))
            with open(dest_path, 'xb') as dst:
                sparse_copy(src, dst, st.st_size)
        LOG.debug('Copied image %(ref)s to %(dest)s',
                  {'ref': ref, 'dest': dest_path})


def _data_extents(fd, size):
    """(start, end) of the data regions of ``fd``, holes left out."""
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as error:
            if error.errno == errno.ENXIO:  # only a hole is left
                return
            if error.errno == errno.EINVAL:  # no SEEK_DATA: all data
                yield pos, size
                return
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, min(end, size)
        pos = end


def sparse_copy(src, dst, size):
    """Copy ``size`` bytes from ``src`` to ``dst``, leaving holes.

    Holes of the source are skipped without reading them (SEEK_DATA),
    and all-zero blocks it does store are not written either, so a raw
    image costs on disk only what its data does.

    :param src: a binary file object open for reading
    :param dst: a binary file object open for writing, empty
    :param size: bytes to copy (the source's size)
    """
    for start, end in _data_extents(src.fileno(), size):
        src.seek(start)
        pos = start
        while pos < end:
            chunk = src.read(min(_CHUNK, end - pos))
            if not chunk:
                break  # the file shrank under us; the cache re-checks
            if chunk != _ZEROS[:len(chunk)]:
                dst.seek(pos)
                dst.write(chunk)
            pos += len(chunk)
    dst.truncate(size)
