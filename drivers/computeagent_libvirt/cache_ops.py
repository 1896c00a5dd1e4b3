"""The image cache as the libvirt driver sees it: :class:`CacheOps`.

Which cached bases the guests use (read from their domains, or from
their disk files when they have none), and the sizes of images known
without a fetch.
"""

from oslo_log import log as logging
from oslo_utils import units

from computeagent import exception
from computeagent_libvirt import domain
from computeagent_libvirt.storage import instance as storage_mod

LOG = logging.getLogger(__name__)


class CacheOps(object):
    """cleanup_image_cache and disk_sizes_mb.

    :param conf: the ConfigOpts (``[image] unused_base_min_age``)
    :param host: the computeagent_libvirt.host.Host of the guests
    :param storage: the driver's storage.instance.InstanceStorage
    """

    def __init__(self, conf, host, storage):
        self.conf = conf
        self.host = host
        self.storage = storage

    def cleanup_image_cache(self, records):
        """Remove the bases no guest has named for [image] unused_base_min_age.

        What is in use is read from each instance's domain (its
        definition and, when running, its live XML, which name every
        base as a backing file or a cdrom's medium), not from specs: an
        image replaced in the source since a guest was built has a new
        cache key, while the guest still runs on the old base.

        An instance without a domain is either waiting to be built (the
        manager calls this while no build runs, so none is between
        fetching its images and defining its domain) or lost its domain
        behind the agent's back; its disk files, if any, still name
        their bases, and those are kept. If a disk file cannot be read,
        nothing is removed this time.
        """
        in_use = set()
        cache = self.storage.cache
        for record in records:
            dom = domain.find(self.host, record.uuid)
            if dom is not None:
                for inactive in (True, False):
                    names = (cache.key_at(path) for path in
                             dom.guest(inactive=inactive).named_files())
                    in_use |= {name for name in names if name is not None}
                continue
            try:
                in_use |= self.storage.bases_named_by_files(
                    record.uuid, record.disks)
            except exception.DriverError as error:
                LOG.warning('Image cache: cannot tell which images '
                            'instance %(uuid)s uses, which has no domain: '
                            '%(error)s; nothing removed this time',
                            {'uuid': record.uuid, 'error': error})
                return []
        self.storage.cache.mark_used(in_use)
        return self.storage.cache.remove_unused(
            in_use, min_age=self.conf.image.unused_base_min_age)

    def disk_sizes_mb(self, spec):
        """Image-sized disks whose image size is known without a fetch.

        That is an image in the cache, or one the source holds in place
        (inspected where it lies); nothing is fetched for this, so the
        other disks are left out (see :mod:`computeagent.compute.resources`).
        """
        sizes = {}
        for disk in spec.disks:
            if disk.is_floppy and disk.source.blank:
                sizes[disk.target] = -(-storage_mod.BLANK_FLOPPY_BYTES //
                                       units.Mi)
                continue
            if disk.is_cdrom or disk.image is None:
                continue
            try:
                image = self.storage.cache.peek(disk.image)
            except exception.ComputeAgentException:
                continue  # the create reports what is wrong with it
            if image.virtual_size is not None:
                sizes[disk.target] = -(-image.virtual_size // units.Mi)
        return sizes
