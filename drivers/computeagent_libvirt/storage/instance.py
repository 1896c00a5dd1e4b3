"""Instance storage: the instance directory and its disks.

Files (docs/api.md, "Files on the compute node")::

    <instances_path>/<uuid>/disk                      the first disk
    <instances_path>/<uuid>/disk.<target>             further disks
    <instances_path>/<uuid>/disk.<target>.snapshot    a snapshot disk's
                                                      temporary overlay
    <instances_path>/<uuid>/<kind><port>.in, .out     a pipe port's FIFOs
    <instances_path>/_base/<key>                      verified images

A disk from an image is a qcow2 overlay on the cached base (``-b base
-F <base format>``) or, in raw, a full copy of it; ``size_mb`` grows it
and may not shrink it. A blank disk is an empty qcow2 or raw file of
``size_mb``. A cdrom uses the cached base itself, read-only, whatever the
spec's ``format`` says (the base's own format is what QEMU must open it
as); a blank cdrom is an empty drive with no file. A cdrom whose source
is a host device uses that block device itself: nothing is made, cached
or ever removed for it, and it must be a block device when planned. A
floppy is a raw copy of its image (the schema sees to raw), and a blank
floppy a 1.44 MB raw medium. A ``snapshot`` disk is
created as usual and then gets a temporary qcow2 overlay on top, which is
what the guest writes to: the driver drops it at stop and recreates it at
start (:meth:`InstanceStorage.discard_snapshot_overlay`,
:meth:`InstanceStorage.ensure_snapshot_overlay`), or commits it.

What :meth:`InstanceStorage.plan` and :meth:`InstanceStorage.create_disks`
return per disk is a :class:`PlannedDisk`. A filesystem too full for a
disk, its image or the directory is ``InsufficientResources``
(:mod:`computeagent.virt.diskspace`), rolled back like any failure.
"""

import dataclasses
import os
import shutil
import stat
import typing

from oslo_log import log as logging
from oslo_utils import units

from computeagent import exception
from computeagent.images import source as image_source
from computeagent.virt import diskspace
from computeagent.virt import layout
from computeagent_libvirt.storage import imagecache
from computeagent_libvirt.storage import qemuimg

LOG = logging.getLogger(__name__)

FILE_MODE = 0o644
DIR_MODE = 0o755
# The guest's console bytes are the agent's (root's) until libvirt hands
# the FIFOs to the QEMU user while the guest runs.
FIFO_MODE = 0o600

#: a blank floppy: the 1.44 MB medium (80 tracks, 2 heads, 18 sectors),
#: the size QEMU's floppy drive takes for that geometry
BLANK_FLOPPY_BYTES = 80 * 2 * 18 * 512


@dataclasses.dataclass(frozen=True)
class PlannedDisk(object):
    """The files of one disk of an instance, as planned or created.

    :ivar target: the disk's target, e.g. ``vda``
    :ivar device: ``disk`` or ``cdrom``
    :ivar path: the file the guest uses (None: an empty cdrom drive)
    :ivar format: ``qcow2`` or ``raw`` (the base's format for a cdrom;
        None for an image neither cached nor declaring one, in a plan
        only)
    :ivar backing: list of (path, format), the chain under ``path``, top
        first
    :ivar snapshot: whether ``path`` is a snapshot disk's temporary
        overlay (then ``backing[0]`` is the disk file)
    :ivar image_key: the cache key of the disk's image, or None
    :ivar source_type: ``file``, or ``block`` for a block device (which
        this storage never plans; the designer can take one)
    """

    target: str
    device: str
    path: typing.Optional[str]
    format: typing.Optional[str]
    backing: list = dataclasses.field(default_factory=list)
    snapshot: bool = False
    image_key: typing.Optional[str] = None
    source_type: str = 'file'


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

        :returns: list of PlannedDisk, in disk order
        :raises: InvalidSpec, ImageNotFound, ImageUnsafe
        """
        return [self.plan_disk(spec.uuid, disk, index)
                for index, disk in enumerate(spec.disks)]

    def plan_disk(self, uuid, disk, index):
        """The PlannedDisk of one disk (see :meth:`plan`)."""
        image = None
        if disk.image is not None:
            image = self.cache.peek(disk.image)
        return self._plan(uuid, disk, index, image)[0]

    def _plan(self, uuid, disk, index, image):
        """(the PlannedDisk, its size in bytes or None) of one disk."""
        target = disk.target
        key = image.key if image else None
        host_device = disk.source.host_device
        if host_device is not None:
            _check_block_device(host_device,
                                'disks[%d].source.host_device' % index)
            return PlannedDisk(target=target, device=disk.device,
                               path=host_device, format='raw',
                               source_type='block'), None
        if disk.is_cdrom:
            return PlannedDisk(target=target, device=disk.device,
                               path=image.path if image else None,
                               format=image.format if image else 'raw',
                               image_key=key), None
        path = self.disk_path(uuid, target, index)
        fmt = disk.format
        size = _size_bytes(disk, index, image)
        backing = []
        if image is not None and fmt == 'qcow2':
            backing = [(image.path, image.format)]
        if disk.snapshot:
            return PlannedDisk(target=target, device=disk.device,
                               path=self.snapshot_path(uuid, target),
                               format='qcow2',
                               backing=[(path, fmt)] + backing,
                               snapshot=True, image_key=key), size
        return PlannedDisk(target=target, device=disk.device, path=path,
                           format=fmt, backing=backing,
                           image_key=key), size

    # -- creation -----------------------------------------------------

    def fetch_images(self, spec):
        """Bring every image of ``spec`` into the cache, verified.

        :raises: ImageNotFound, ImageUnsafe, DriverError
        """
        for disk in spec.disks:
            if disk.image is not None:
                self.cache.get(disk.image)

    def create_disks(self, spec):
        """Fetch the images and create every disk of ``spec``.

        All images are fetched and every size checked before the first
        file is made. On any failure, what this call created is removed
        (the instance directory too, if it made it); cached bases stay,
        being verified and shared.

        :returns: list of PlannedDisk, in disk order
        :raises: InvalidSpec, ImageNotFound, ImageUnsafe, DriverError,
            InsufficientResources
        """
        uuid = spec.uuid
        plans = []
        for index, disk in enumerate(spec.disks):
            image = None
            if disk.image is not None:
                image = self.cache.get(disk.image)
            plans.append(self._plan(uuid, disk, index, image) + (image,))
        directory = self.instance_dir(uuid)
        made_dir = self._make_instance_dir(directory)
        created = []
        try:
            for planned, size, image in plans:
                self._create(planned, size, image, created)
        except BaseException:
            if made_dir:
                shutil.rmtree(directory, ignore_errors=True)
            else:
                _remove_files(created)
            raise
        return [planned for planned, _size, _image in plans]

    def create_disk(self, uuid, disk, index):
        """Create one disk (for attach_disk); rolled back on failure.

        :param disk: a DiskSpec with its target assigned
        :param index: its position in the instance's disks
        :returns: its PlannedDisk
        :raises: InvalidSpec, ImageNotFound, ImageUnsafe, DriverError,
            InsufficientResources
        """
        image = None
        if disk.image is not None:
            image = self.cache.get(disk.image)
        planned, size = self._plan(uuid, disk, index, image)
        self._make_instance_dir(self.instance_dir(uuid))
        created = []
        try:
            self._create(planned, size, image, created)
        except BaseException:
            _remove_files(created)
            raise
        return planned

    def make_fifos(self, paths):
        """Make the FIFOs of pipe ports; those that exist are kept.

        QEMU opens a pipe chardev's ``<path>.in`` and ``<path>.out``
        itself and never makes them: they must exist before the guest
        starts (libvirt's DAC driver then hands them to the QEMU user).
        A FIFO that exists (a guest started again) is kept, with what
        its reader has not read yet.

        :param paths: absolute paths in the instance directory
            (:func:`computeagent_libvirt.design.chardevs.pipe_fifos`)
        :raises: DriverError if one cannot be made, or its name is taken
            by something else
        """
        for path in paths:
            try:
                os.mkfifo(path, FIFO_MODE)
            except FileExistsError:
                if not stat.S_ISFIFO(os.lstat(path).st_mode):
                    raise exception.DriverError(
                        reason='%s exists and is not a FIFO' % path)
            except OSError as error:
                raise exception.DriverError(
                    reason='cannot make the FIFO %s: %s' % (path, error))

    def _make_instance_dir(self, directory):
        parent = os.path.dirname(directory)
        with diskspace.out_of_room(directory, 'the instance directory'):
            if not os.path.isdir(parent):
                os.makedirs(parent, mode=DIR_MODE, exist_ok=True)
            try:
                os.mkdir(directory, DIR_MODE)
            except FileExistsError:
                return False
        os.chmod(directory, DIR_MODE)  # whatever the umask
        return True

    def _create(self, planned, size, image, created):
        if planned.device == 'cdrom':
            return  # the cached base itself, or no medium
        if planned.snapshot:
            disk_path, fmt = planned.backing[0]
            bases = planned.backing[1:]
        else:
            disk_path, fmt = planned.path, planned.format
            bases = planned.backing
        _claim(disk_path, created)
        if planned.image_key is None:
            qemuimg.create_blank(self.conf, disk_path, fmt, size)
        elif fmt == 'qcow2':
            base_path, base_fmt = bases[0]
            qemuimg.create_overlay(self.conf, disk_path, base_path, base_fmt,
                                   size)
        else:
            base = image
            qemuimg.convert(self.conf, base.path, base.format, disk_path,
                            'raw')
            if size is not None and size > base.virtual_size:
                qemuimg.resize(self.conf, disk_path, 'raw', size)
        os.chmod(disk_path, FILE_MODE)
        if planned.snapshot:
            _claim(planned.path, created)
            self._overlay(planned)

    def _overlay(self, planned):
        disk_path, fmt = planned.backing[0]
        qemuimg.create_overlay(self.conf, planned.path, disk_path, fmt)
        os.chmod(planned.path, FILE_MODE)

    # -- snapshot overlays --------------------------------------------

    def ensure_snapshot_overlay(self, planned):
        """(Re)create a snapshot disk's overlay if it is missing.

        :param planned: a PlannedDisk; other than snapshot ones are
            ignored
        :returns: True if it created the overlay
        :raises: DriverError
        """
        if not planned.snapshot or os.path.exists(planned.path):
            return False
        self._overlay(planned)
        return True

    def discard_snapshot_overlay(self, planned):
        """Drop a snapshot disk's temporary changes (its overlay file)."""
        if planned.snapshot:
            _remove_files([planned.path])

    # -- what the files use ---------------------------------------------

    def bases_named_by_files(self, uuid, disks):
        """The cached bases an instance's disk files name, read from them.

        For an instance whose domain cannot be asked (it was undefined
        behind the agent's back): a cdrom's medium is a base itself; a
        qcow2 disk names its base as backing file, read from the file's
        header (``qemu-img info -f qcow2``: the format is the record's,
        never probed); a raw disk is a copy and names none, and neither
        does a disk file that is gone.

        :param disks: the instance record's DiskRecords
        :returns: set of names in the cache directory
        :raises: DriverError if a disk file cannot be read
        """
        directory = self.instance_dir(uuid)
        names = set()
        for disk in disks:
            path = disk.path
            if not path:
                continue  # an empty cdrom drive
            named = self.cache.key_at(path)
            if (named is None and disk.format == 'qcow2'
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

    def delete_disk_files(self, uuid, planned):
        """Remove one disk's own files (detach_disk); never a base.

        Only files inside the instance's directory are removed.

        :param planned: the disk's PlannedDisk
        """
        directory = self.instance_dir(uuid) + os.sep
        paths = [planned.path] + [path for path, _f in planned.backing]
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


def _check_block_device(path, field):
    """Refuse a host device that is not there or not a block device.

    :raises: InvalidSpec naming ``field``
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise exception.InvalidSpec(
            field=field, reason='cannot use %s: %s' % (path, error.strerror))
    if not stat.S_ISBLK(mode):
        raise exception.InvalidSpec(
            field=field, reason='%s is not a block device' % path)


def _size_bytes(disk, index, image):
    """The disk's size in bytes, or None for the image's own size."""
    size_mb = disk.size_mb
    field = 'disks[%d].size_mb' % index
    if disk.is_floppy and image is None:
        return BLANK_FLOPPY_BYTES
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
