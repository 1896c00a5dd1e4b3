"""Instance storage: the instance directory and its disks.

Files (docs/api.md, "Files on the compute node")::

    <instances_path>/<uuid>/disk                      the first disk
    <instances_path>/<uuid>/disk.<target>             further disks
    <instances_path>/<uuid>/disk.<target>.snapshot    a snapshot disk's
                                                      temporary overlay
    <instances_path>/_base/<key>                      verified images

A disk from an image is a qcow2 overlay on the cached base (``-b base
-F <base format>``) or, in raw, a full copy of it; ``size_mb`` grows it
and may not shrink it. A blank disk is an empty qcow2 or raw file of
``size_mb``. A cdrom uses the cached base itself, read-only, whatever the
spec's ``format`` says (the base's own format is what QEMU must open it
as); a blank cdrom is an empty drive with no file. A ``snapshot`` disk is
created as usual and then gets a temporary qcow2 overlay on top, which is
what the guest writes to: the driver drops it at stop and recreates it at
start (:meth:`InstanceStorage.discard_snapshot_overlay`,
:meth:`InstanceStorage.ensure_snapshot_overlay`), or commits it.

A plan entry (what :meth:`InstanceStorage.plan` and
:meth:`InstanceStorage.create_disks` return per disk) is a dict::

    {"target": "vda", "device": "disk"|"cdrom",
     "path": the file the guest uses (None: an empty cdrom drive),
     "format": "qcow2"|"raw" (the base's format for a cdrom; None for an
               image neither cached nor declaring one, in a plan only),
     "backing": [(path, format), ...] the chain under "path", top first,
     "snapshot": bool, "image_key": the cache key or None}
"""

import os
import shutil

from oslo_log import log as logging
from oslo_utils import units

from computeagent import exception
from computeagent.images import source as image_source
from computeagent.virt import layout
from computeagent_libvirt.storage import imagecache
from computeagent_libvirt.storage import qemuimg

LOG = logging.getLogger(__name__)

FILE_MODE = 0o644
DIR_MODE = 0o755


class InstanceStorage:
    """Disks of instances, on top of the image cache.

    :param conf: the ConfigOpts
    :param source: an ImageSource; default the one ``[image] source``
        names, loaded on first use
    """

    def __init__(self, conf, source=None):
        self.conf = conf
        self._source = source
        self._cache = None

    @property
    def source(self):
        if self._source is None:
            self._source = image_source.load_image_source(self.conf)
        return self._source

    @property
    def cache(self):
        if self._cache is None:
            self._cache = imagecache.ImageCache(self.conf, self.source)
        return self._cache

    # -- names --------------------------------------------------------

    def instance_dir(self, uuid):
        """``<instances_path>/<uuid>``; refuses anything but a UUID."""
        return layout.instance_dir(self.conf.instances_path, uuid)

    def disk_path(self, uuid, target, index):
        """``<uuid>/disk`` for the first disk, else ``disk.<target>``."""
        return layout.disk_file(self.instance_dir(uuid), index, target)

    def snapshot_path(self, uuid, target):
        """``<uuid>/disk.<target>.snapshot``."""
        return layout.snapshot_file(self.instance_dir(uuid), target)

    # -- planning -----------------------------------------------------

    def plan(self, spec):
        """The disks ``spec`` would get, creating nothing.

        Images are identified (and a cached one's format and size used)
        but never fetched. A size check needs the image's virtual size,
        so it is made here only for images already cached.

        :returns: list of plan entries, in disk order
        :raises: InvalidSpec, ImageNotFound, ImageUnsafe
        """
        return [self.plan_disk(spec['uuid'], disk, index)
                for index, disk in enumerate(spec['disks'])]

    def plan_disk(self, uuid, disk, index):
        """The plan entry of one disk (see :meth:`plan`)."""
        image = None
        if 'image' in disk['source']:
            image = self.cache.peek(disk['source']['image'])
        return _public(self._entry(uuid, disk, index, image))

    def _entry(self, uuid, disk, index, image):
        target = disk['target']
        entry = {'target': target, 'device': disk['device'],
                 'snapshot': False, 'backing': [],
                 'image_key': image.key if image else None}
        if disk['device'] == 'cdrom':
            entry['path'] = image.path if image else None
            entry['format'] = image.format if image else 'raw'
            return entry
        path = self.disk_path(uuid, target, index)
        fmt = disk['format']
        size = _size_bytes(disk, index, image)
        entry.update(path=path, format=fmt)
        if image is not None and fmt == 'qcow2':
            entry['backing'] = [(image.path, image.format)]
        if disk['snapshot']:
            entry['backing'] = [(path, fmt)] + entry['backing']
            entry.update(path=self.snapshot_path(uuid, target),
                         format='qcow2', snapshot=True)
        entry.update(_size=size, _image=image)
        return entry

    # -- creation -----------------------------------------------------

    def fetch_images(self, spec):
        """Bring every image of ``spec`` into the cache, verified.

        :raises: ImageNotFound, ImageUnsafe, DriverError
        """
        for disk in spec['disks']:
            if 'image' in disk['source']:
                self.cache.get(disk['source']['image'])

    def create_disks(self, spec):
        """Fetch the images and create every disk of ``spec``.

        All images are fetched and every size checked before the first
        file is made. On any failure, what this call created is removed
        (the instance directory too, if it made it); cached bases stay,
        being verified and shared.

        :returns: list of plan entries, in disk order
        :raises: InvalidSpec, ImageNotFound, ImageUnsafe, DriverError
        """
        uuid = spec['uuid']
        entries = []
        for index, disk in enumerate(spec['disks']):
            image = None
            if 'image' in disk['source']:
                image = self.cache.get(disk['source']['image'])
            entries.append(self._entry(uuid, disk, index, image))
        directory = self.instance_dir(uuid)
        made_dir = self._make_instance_dir(directory)
        created = []
        try:
            for entry in entries:
                self._create(entry, created)
        except BaseException:
            if made_dir:
                shutil.rmtree(directory, ignore_errors=True)
            else:
                _remove_files(created)
            raise
        return [_public(entry) for entry in entries]

    def create_disk(self, uuid, disk, index):
        """Create one disk (for attach_disk); rolled back on failure.

        :param disk: a normalized disk spec with its target assigned
        :param index: its position in the instance's disks
        :returns: its plan entry
        :raises: InvalidSpec, ImageNotFound, ImageUnsafe, DriverError
        """
        image = None
        if 'image' in disk['source']:
            image = self.cache.get(disk['source']['image'])
        entry = self._entry(uuid, disk, index, image)
        self._make_instance_dir(self.instance_dir(uuid))
        created = []
        try:
            self._create(entry, created)
        except BaseException:
            _remove_files(created)
            raise
        return _public(entry)

    def _make_instance_dir(self, directory):
        parent = os.path.dirname(directory)
        if not os.path.isdir(parent):
            os.makedirs(parent, mode=DIR_MODE, exist_ok=True)
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            return False
        os.chmod(directory, DIR_MODE)  # whatever the umask
        return True

    def _create(self, entry, created):
        if entry['device'] == 'cdrom':
            return  # the cached base itself, or no medium
        if entry['snapshot']:
            disk_path, fmt = entry['backing'][0]
            bases = entry['backing'][1:]
        else:
            disk_path, fmt = entry['path'], entry['format']
            bases = entry['backing']
        _claim(disk_path, created)
        size = entry['_size']
        if entry['image_key'] is None:
            qemuimg.create_blank(self.conf, disk_path, fmt, size)
        elif fmt == 'qcow2':
            base_path, base_fmt = bases[0]
            qemuimg.create_overlay(self.conf, disk_path, base_path, base_fmt,
                                   size)
        else:
            base = entry['_image']
            qemuimg.convert(self.conf, base.path, base.format, disk_path,
                            'raw')
            if size is not None and size > base.virtual_size:
                qemuimg.resize(self.conf, disk_path, 'raw', size)
        os.chmod(disk_path, FILE_MODE)
        if entry['snapshot']:
            _claim(entry['path'], created)
            self._overlay(entry)

    def _overlay(self, entry):
        disk_path, fmt = entry['backing'][0]
        qemuimg.create_overlay(self.conf, entry['path'], disk_path, fmt)
        os.chmod(entry['path'], FILE_MODE)

    # -- snapshot overlays --------------------------------------------

    def ensure_snapshot_overlay(self, entry):
        """(Re)create a snapshot disk's overlay if it is missing.

        :param entry: a plan entry; other than snapshot ones are ignored
        :returns: True if it created the overlay
        :raises: DriverError
        """
        if not entry['snapshot'] or os.path.exists(entry['path']):
            return False
        self._overlay(entry)
        return True

    def discard_snapshot_overlay(self, entry):
        """Drop a snapshot disk's temporary changes (its overlay file)."""
        if entry['snapshot']:
            _remove_files([entry['path']])

    # -- what the files use ---------------------------------------------

    def bases_named_by_files(self, uuid, disks):
        """The cached bases an instance's disk files name, read from them.

        For an instance whose domain cannot be asked (it was undefined
        behind the agent's back): a cdrom's medium is a base itself; a
        qcow2 disk names its base as backing file, read from the file's
        header (``qemu-img info -f qcow2``: the format is the record's,
        never probed); a raw disk is a copy and names none, and neither
        does a disk file that is gone.

        :param disks: the instance record's disks
        :returns: set of names in the cache directory
        :raises: DriverError if a disk file cannot be read
        """
        directory = self.instance_dir(uuid)
        names = set()
        for disk in disks:
            path = disk['path']
            if not path:
                continue  # an empty cdrom drive
            named = self.cache.key_at(path)
            if (named is None and disk['format'] == 'qcow2'
                    and os.path.dirname(path) == directory
                    and os.path.lexists(path)):
                info = qemuimg.info(self.conf, path, 'qcow2',
                                    force_share=True)
                backing = (info.get('full-backing-filename')
                           or info.get('backing-filename'))
                # A relative backing name is relative to the overlay.
                if backing:
                    named = self.cache.key_at(
                        os.path.join(directory, backing))
            if named is not None:
                names.add(named)
        return names

    # -- deletion -----------------------------------------------------

    def delete_disk_files(self, uuid, entry):
        """Remove one disk's own files (detach_disk); never a base.

        Only files inside the instance's directory are removed.
        """
        directory = self.instance_dir(uuid) + os.sep
        paths = [entry['path']] + [path for path, _f in entry['backing']]
        _remove_files([p for p in paths
                       if p and os.path.abspath(p).startswith(directory)])

    def delete_instance_files(self, uuid):
        """Remove the instance directory and all in it. Idempotent.

        :raises: DriverError if it cannot be removed
        """
        directory = self.instance_dir(uuid)
        try:
            shutil.rmtree(directory)
        except FileNotFoundError:
            return
        except OSError as error:
            raise exception.DriverError(
                reason='cannot remove %s: %s' % (directory, error))
        LOG.info('Removed instance directory %s', directory)


def _size_bytes(disk, index, image):
    """The disk's size in bytes, or None for the image's own size."""
    size_mb = disk.get('size_mb')
    field = 'disks[%d].size_mb' % index
    if size_mb is None:
        if image is None:
            raise exception.InvalidSpec(
                field=field, reason='a blank disk needs a size')
        return None
    size = size_mb * units.Mi
    if image is not None and image.virtual_size is not None \
            and size < image.virtual_size:
        raise exception.InvalidSpec(
            field=field, reason='%d MiB is smaller than the image (%d '
                                'bytes)' % (size_mb, image.virtual_size))
    return size


def _claim(path, created):
    # qemu-img create would silently replace a file; a disk that exists
    # belongs to someone else (or to a half-deleted instance).
    if os.path.lexists(path):
        raise exception.DriverError(reason='%s already exists' % path)
    created.append(path)


def _remove_files(paths):
    for path in reversed(paths):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _public(entry):
    return {k: v for k, v in entry.items() if not k.startswith('_')}
