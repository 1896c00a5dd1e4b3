"""The ``_base/`` cache of verified images under ``[DEFAULT] instances_path``.

Layout::

    _base/<key>            the image, named by its source's identity
    _base/<key>.json       what inspection found: format, virtual size
    _base/.tmp-<key>-*     a fetch in progress (or left by a crash)
    _base/.locks/          one lock file per key (unless
                           [oslo_concurrency] lock_path is set)

An entry exists when both ``<key>`` and ``<key>.json`` do. A fetch runs
under an external lock per key (a thread semaphore plus a file lock, so
threads and processes alike fetch each image once), writes to a temp
name, inspects it (:mod:`computeagent_libvirt.storage.imageinspect`),
writes the sidecar, and renames the image into place, so no reader ever
sees a half-written or uninspected base. A failed fetch or inspection
leaves neither an entry nor a temp file; one that found the filesystem
full is ``InsufficientResources``.

Lock files are never removed: deleting one while another process waits
on it would let two processes hold "the same" lock.
"""

import dataclasses
import json
import os
import time
import uuid

from oslo_concurrency import lockutils
from oslo_log import log as logging

from computeagent import exception
from computeagent.images import source as image_source
from computeagent.virt import diskspace
from computeagent.virt import layout
from computeagent_libvirt.storage import imageinspect

LOG = logging.getLogger(__name__)

BASE_DIR = '_base'
_TMP_PREFIX = '.tmp-'
_LOCK_PREFIX = 'computeagent-base-'
_SIDECAR = '.json'
FILE_MODE = 0o644
DIR_MODE = 0o755


@dataclasses.dataclass(frozen=True)
class CachedImage:
    """A verified base image."""

    #: the source's identity of the image, the file's name
    key: str
    #: absolute path of the base image
    path: str
    #: 'qcow2' or 'raw': what QEMU must open it as (from :meth:`peek`
    #: of an image not yet cached: the declared format, or None)
    format: str
    #: virtual size in bytes (None from :meth:`peek` if not cached)
    virtual_size: int
    #: False for what :meth:`ImageCache.peek` guesses of an absent image
    cached: bool = True


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class ImageCache:
    """Fetch-once, inspected base images.

    :param conf: the ConfigOpts
    :param source: the ImageSource images come from
    """

    def __init__(self, conf, source):
        self.conf = conf
        self.source = source

    @property
    def base_dir(self):
        return os.path.join(os.path.abspath(self.conf.instances_path),
                            BASE_DIR)

    @property
    def lock_path(self):
        return (lockutils.get_lock_path(self.conf)
                or os.path.join(self.base_dir, '.locks'))

    def path_for(self, key):
        """Where the base of ``key`` is (or would be)."""
        return os.path.join(self.base_dir, _check_key(key))

    def key_at(self, path):
        """The name in the cache of the file at ``path``, or None.

        :param path: an absolute path, as domain XML and qcow2 headers
            name a base
        """
        if os.path.dirname(path) == self.base_dir:
            return os.path.basename(path)
        return None

    def identify(self, ref):
        """The cache key of ``ref``, from the source, checked.

        :raises: ImageNotFound
        """
        return _check_key(self.source.identity(ref))

    def lookup(self, key):
        """The cached entry of ``key``, or None. Reads only.

        :returns: CachedImage or None
        """
        path = self.path_for(key)
        try:
            with open(path + _SIDECAR, encoding='utf-8') as f:
                meta = json.load(f)
            fmt = meta['format']
            virtual_size = int(meta['virtual_size'])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            # Not written by a finished fetch of ours; treat as absent so
            # the next fetch replaces it.
            LOG.warning('Ignoring unreadable cache metadata %(path)s: '
                        '%(error)s', {'path': path + _SIDECAR,
                                      'error': error})
            return None
        if (fmt not in imageinspect.FORMAT_OF.values()
                or not os.path.isfile(path)):
            return None
        return CachedImage(key=key, path=path, format=fmt,
                           virtual_size=virtual_size)

    def get(self, ref):
        """The verified base of ``ref``, fetched at most once.

        Also refuses a cached image whose format differs from the one
        ``ref`` declares (two references may share one identity).

        :returns: CachedImage
        :raises: ImageNotFound, ImageUnsafe, DriverError,
            InsufficientResources (no room left for it in the cache)
        """
        key = self.identify(ref)
        declared = self.source.declared_format(ref)
        entry = self.lookup(key)
        if entry is None:
            with diskspace.out_of_room(self.path_for(key),
                                       'image %s fetched into the cache'
                                       % ref), self._lock(key):
                entry = self.lookup(key)
                if entry is None:
                    entry = self._fetch(ref, key, declared)
        self._check_declared(ref, entry, declared)
        return entry

    def peek(self, ref):
        """What :meth:`get` would return, without fetching or writing.

        For an image not in the cache yet, the result has ``cached``
        False and the path it will have; its format and virtual size come
        from inspecting the source's file in place where the source has
        one (a directory), else the format ``ref`` declares (or None)
        and no virtual size.

        :returns: CachedImage
        :raises: ImageNotFound, ImageUnsafe (a cached image of another
            format than declared)
        """
        key = self.identify(ref)
        declared = self.source.declared_format(ref)
        entry = self.lookup(key)
        if entry is None:
            local = self.source.local_path(ref)
            if local is None:
                return CachedImage(key=key, path=self.path_for(key),
                                   format=declared, virtual_size=None,
                                   cached=False)
            # The image can be read where it is: inspect it there (read
            # only), so the plan knows its format and size and an unsafe
            # image is refused by the dry run too.
            found = imageinspect.inspect_image(self.conf, local, ref,
                                               declared)
            return CachedImage(key=key, path=self.path_for(key),
                               format=found['format'],
                               virtual_size=found['virtual_size'],
                               cached=False)
        self._check_declared(ref, entry, declared)
        return entry

    @staticmethod
    def _check_declared(ref, entry, declared):
        if declared is not None and declared != entry.format:
            raise exception.ImageUnsafe(
                image=ref, reason='declared %s but the cached image is %s'
                                  % (declared, entry.format))

    def _lock(self, key):
        return lockutils.lock(key, lock_file_prefix=_LOCK_PREFIX,
                              external=True, lock_path=self.lock_path)

    def _ensure_dirs(self):
        for path in (self.base_dir, self.lock_path):
            os.makedirs(path, mode=DIR_MODE, exist_ok=True)

    def _fetch(self, ref, key, declared):
        self._ensure_dirs()
        final = self.path_for(key)
        tmp = os.path.join(self.base_dir, '%s%s-%s' % (
            _TMP_PREFIX, key, uuid.uuid4().hex))
        tmp_meta = tmp + _SIDECAR
        LOG.info('Fetching image %(ref)s into the cache as %(key)s',
                 {'ref': ref, 'key': key})
        try:
            self.source.fetch(ref, tmp)
            if self.source.identity(ref) != key:
                raise exception.ImageNotFound(
                    image=ref, reason='it changed while it was fetched')
            found = imageinspect.inspect_image(self.conf, tmp, ref, declared)
            os.chmod(tmp, FILE_MODE)
            with open(tmp, 'rb') as f:
                os.fsync(f.fileno())
            meta = {'format': found['format'],
                    'virtual_size': found['virtual_size'],
                    'detected': found['detected'],
                    'size': found['size'],
                    'ref': ref}
            with open(tmp_meta, 'w', encoding='utf-8') as f:
                json.dump(meta, f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp_meta, FILE_MODE)
            # The sidecar first: an image without one is not an entry,
            # so the image's rename is the moment the entry appears.
            os.rename(tmp_meta, final + _SIDECAR)
            os.rename(tmp, final)
            layout.fsync_dir(self.base_dir)
        except BaseException:
            _remove(tmp)
            _remove(tmp_meta)
            raise
        return CachedImage(key=key, path=final, format=found['format'],
                           virtual_size=found['virtual_size'])

    def list_entries(self):
        """Every complete entry of the cache.

        :returns: dict of key to CachedImage
        """
        entries = {}
        for name in self._names():
            if not image_source.IDENTITY_RE.match(name):
                continue
            entry = self.lookup(name)
            if entry is not None:
                entries[name] = entry
        return entries

    def mark_used(self, keys):
        """Record that the bases of ``keys`` are in use now.

        The time is their sidecar's modification time, which a fetch sets
        too: :meth:`remove_unused` keeps a base for ``min_age`` after it.
        """
        for key in keys:
            try:
                os.utime(self.path_for(key) + _SIDECAR)
            except FileNotFoundError:
                pass

    def remove_unused(self, in_use, min_age=0):
        """Remove every base whose key is not in ``in_use``.

        The caller must include the keys of instances being built right
        now, not only of those that exist: there is no reference
        counting, and a base removed under a build fails that build.
        Leftovers of crashed fetches (temp files, orphan metadata) go
        too, of every key; each key is handled under its lock, so a fetch
        in progress is never disturbed.

        :param in_use: a set of cache keys to keep
        :param min_age: keep too a base fetched or marked used
            (:meth:`mark_used`) less than this many seconds ago
        :returns: sorted list of the keys whose base was removed
        """
        removed = []
        recent = time.time() - min_age
        for key in sorted(self._all_keys()):
            with self._lock(key):
                self._remove_temp_files(key)
                if key in in_use or self._used_since(key, recent):
                    continue
                path = self.path_for(key)
                existed = os.path.exists(path)
                _remove(path)
                _remove(path + _SIDECAR)
                if existed:
                    LOG.info('Removed unused base image %s', key)
                    removed.append(key)
        return removed

    def _used_since(self, key, when):
        try:
            return os.stat(self.path_for(key) + _SIDECAR).st_mtime > when
        except FileNotFoundError:
            return False

    def remove_interrupted_fetches(self):
        """Remove the temp files of fetches whose process died.

        Called at start-up (a fetch in progress always removes its own
        on failure; only a killed process leaves one). Each key is
        handled under its lock, so a fetch of another process sharing
        the cache is never disturbed. Needs no image source.

        :returns: sorted list of the names removed
        """
        removed = []
        for key in sorted(self._all_keys()):
            with self._lock(key):
                removed.extend(self._remove_temp_files(key))
        return sorted(removed)

    def _remove_temp_files(self, key):
        """Remove a key's leftovers of killed fetches; hold its lock.

        :returns: the names removed
        """
        names = list(self._temp_files(key))
        for name in names:
            LOG.info('Removing %s, left by an interrupted fetch', name)
            _remove(os.path.join(self.base_dir, name))
        return names

    def _names(self):
        try:
            return os.listdir(self.base_dir)
        except FileNotFoundError:
            return []

    def _all_keys(self):
        keys = set()
        for name in self._names():
            key = _key_of(name)
            if key is not None:
                keys.add(key)
        return keys

    def _temp_files(self, key):
        return [name for name in self._names()
                if name.startswith(_TMP_PREFIX) and _key_of(name) == key]


def _key_of(name):
    """The key a file of ``_base/`` belongs to, or None."""
    if name.startswith(_TMP_PREFIX):
        # .tmp-<key>-<hex>[.json]; the key may contain dashes, hex not.
        name = name[len(_TMP_PREFIX):]
        if name.endswith(_SIDECAR):
            name = name[:-len(_SIDECAR)]
        name = name.rsplit('-', 1)[0]
    elif name.endswith(_SIDECAR):
        name = name[:-len(_SIDECAR)]
    return name if image_source.IDENTITY_RE.match(name) else None


def _check_key(key):
    if not isinstance(key, str) or not image_source.IDENTITY_RE.match(key):
        # A broken image source plugin, never a user's mistake.
        raise exception.DriverError(
            reason='image source returned an unusable identity %r' % (key,))
    return key
