"""Admission of new instances against what the host has.

A create is admitted only if the host can hold it on top of every
instance it has a record of, whatever that instance's state: a stopped
or suspended guest keeps its claim (as in nova), and a create still
building claims from the moment its record is saved. Each resource's
capacity is nova placement's ``(total - reserved) * allocation_ratio``
(``[DEFAULT]`` options):

- memory: the host's memory, ``reserved_host_memory_mb``,
  ``ram_allocation_ratio``;
- disk: the size of the filesystem of ``instances_path`` in bytes
  (counted in whole MiB, never rounded to GiB),
  ``reserved_host_disk_mb``, ``disk_allocation_ratio``;
- vCPUs: the host's CPUs, nothing reserved, ``cpu_allocation_ratio``
  (0 turns the vCPU check off).

Disks count at what they may grow to, not what they use now: a thin
qcow2 overlay or a sparse raw file may fill up to its virtual size. For
each disk of an instance's spec:

- a cdrom counts 0 (its medium is a shared, read-only image in _base);
- a disk with ``size_mb`` counts ``size_mb``;
- a disk from an image without ``size_mb`` has the image's virtual size,
  which the driver reports when it knows it without fetching anything
  (:meth:`computeagent.virt.driver.ComputeDriver.disk_sizes_mb`; the
  libvirt driver knows it once the image is in the cache, or before for
  a source whose file it can inspect in place, the ``directory`` one).
  An image of a downloading source (``http``) not yet cached is
  admitted as if that disk were 0, and counts its real size from then
  on;
- anything else counts 0.

The image cache (``_base``) is shared and not counted per instance:
``reserved_host_disk_mb`` is where room for it (and the host's own
files) is kept.

Concurrent creates are admitted one at a time: :meth:`ResourceTracker.claim`
holds a lock until the caller has saved the building record, so the
next create counts it.

attach_disk claims the disk it adds the same way
(:meth:`ResourceTracker.claim_disk`): counted as above, checked against
disk only, under the same lock, so a create and an attach can never both
take the last space. Creating the disk may fetch an image, so the lock
is not held for that: the claim is kept in memory, and counted, until
the instance's spec names the disk; from then on the record counts it,
and detach_disk frees it by removing it from the spec.
"""

import contextlib
import dataclasses
import threading

from oslo_log import log as logging
from oslo_utils import units

from computeagent import exception

LOG = logging.getLogger(__name__)


def capacity(total, reserved, ratio):
    """How much of a resource instances may be given, nova's way.

    :returns: int, never below 0
    """
    return max(int((total - reserved) * ratio), 0)


def _signature(spec):
    """What a spec's disk allocation depends on, to know it is unchanged."""
    return tuple((d.target, d.device, d.source, d.size_mb)
                 for d in spec.disks)


class ResourceTracker(object):
    """Counts what the records claim and admits creates.

    :param conf: the ConfigOpts (``[DEFAULT]`` ratios and reservations)
    :param driver: the virt driver (host totals, image sizes)
    :param store: the InstanceStore whose records claim resources
    """

    def __init__(self, conf, driver, store):
        self.conf = conf
        self.driver = driver
        self.store = store
        self._lock = threading.Lock()
        # uuid -> (signature, MiB) for records whose every disk size is
        # known: asking the driver again would give the same answer.
        self._disk_memo = {}
        self._memo_lock = threading.Lock()
        # (uuid, target) -> MiB of disks being attached (claim_disk):
        # added while _lock is held, always read and changed under
        # _memo_lock. usage() reads it before the records, so a disk
        # whose spec is stored meanwhile is still counted once.
        self._attaching = {}

    # -- counting ----------------------------------------------------------

    def _driver_sizes(self, spec):
        try:
            return self.driver.disk_sizes_mb(spec) or {}
        except exception.ComputeAgentException as error:
            # The create itself reports what is wrong with its images;
            # admission just cannot count them.
            LOG.debug('No disk sizes for %(uuid)s: %(error)s',
                      {'uuid': spec.uuid, 'error': error})
            return {}

    def disk_mb(self, spec):
        """The disk an instance of ``spec`` claims, in MiB (see above).

        :returns: (MiB, whether every disk's size was known)
        """
        known = None
        total = 0
        complete = True
        for disk in spec.disks:
            if disk.is_cdrom:
                continue
            if disk.size_mb is not None:
                total += disk.size_mb
                continue
            if known is None:
                known = self._driver_sizes(spec)
            size = known.get(disk.target)
            if size is None:
                complete = False
            else:
                total += size
        return total, complete

    def _record_disk_mb(self, uuid, spec):
        signature = _signature(spec)
        with self._memo_lock:
            memo = self._disk_memo.get(uuid)
        if memo is not None and memo[0] == signature:
            return memo[1]
        mb, complete = self.disk_mb(spec)
        if complete:
            with self._memo_lock:
                self._disk_memo[uuid] = (signature, mb)
        return mb

    def usage(self):
        """What every record claims.

        :returns: dict with ``instances``, ``vcpus``, ``memory_mb`` and
            ``disk_mb``
        """
        used = {'instances': 0, 'vcpus': 0, 'memory_mb': 0, 'disk_mb': 0}
        with self._memo_lock:
            attaching = dict(self._attaching)
        uuids = self.store.uuids()
        for uuid in uuids:
            stored = self.store.get_stored(uuid)
            if stored is None:
                continue  # deleted meanwhile
            record = stored.record
            used['instances'] += 1
            used['vcpus'] += record.vcpus
            used['memory_mb'] += record.memory_mb
            if stored.spec is not None:
                used['disk_mb'] += self._record_disk_mb(uuid, stored.spec)
                # A disk being attached counts once: from its claim until
                # the stored spec names it, then as part of the record.
                for disk in stored.spec.disks:
                    attaching.pop((uuid, disk.target), None)
        used['disk_mb'] += sum(attaching.values())
        with self._memo_lock:
            for uuid in set(self._disk_memo) - uuids:
                del self._disk_memo[uuid]
        return used

    def limits(self, host):
        """The capacity of each resource on ``host``.

        :param host: the driver's ``get_host_resources()``
        :returns: dict with ``memory_mb``, ``disk_mb`` and ``vcpus``
            (None when vCPUs are not checked)
        """
        conf = self.conf
        vcpus = None
        if conf.cpu_allocation_ratio > 0:
            vcpus = capacity(host['vcpus'], 0, conf.cpu_allocation_ratio)
        return {'memory_mb': capacity(host['memory_mb'],
                                      conf.reserved_host_memory_mb,
                                      conf.ram_allocation_ratio),
                'disk_mb': capacity(host['disk_bytes'] / units.Mi,
                                    conf.reserved_host_disk_mb,
                                    conf.disk_allocation_ratio),
                'vcpus': vcpus}

    # -- admission ---------------------------------------------------------

    def _shortages(self, asked):
        """What of ``asked`` does not fit beside every record and claim.

        :param asked: dict of some of ``memory_mb``, ``disk_mb`` and
            ``vcpus``; only those are checked
        :returns: list of sentences, one per resource short
        """
        limits = self.limits(self.driver.get_host_resources())
        used = self.usage()
        short = []
        for key, fmt in (
                ('memory_mb', '%(asked)d MiB of memory asked, %(free)d MiB '
                              'of %(limit)d MiB free'),
                ('disk_mb', '%(asked)d MiB of disk asked, %(free)d MiB of '
                            '%(limit)d MiB free'),
                ('vcpus', '%(asked)d vCPUs asked, %(free)d of %(limit)d '
                          'free')):
            limit = limits[key]
            if (key not in asked or limit is None
                    or used[key] + asked[key] <= limit):
                continue
            short.append(fmt % {'asked': asked[key], 'limit': limit,
                                'free': max(limit - used[key], 0)})
        return short

    def check(self, spec, disk_mb=None):
        """Raise unless the host can fit ``spec`` beside every record.

        :param disk_mb: the disk ``spec`` claims, if already counted
        :raises: InsufficientResources naming every resource short
        """
        if disk_mb is None:
            disk_mb = self.disk_mb(spec)[0]
        short = self._shortages({'memory_mb': spec.memory_mb,
                                 'disk_mb': disk_mb,
                                 'vcpus': spec.vcpus})
        if short:
            raise exception.InsufficientResources(reason='; '.join(short))

    @contextlib.contextmanager
    def claim(self, spec):
        """Admit ``spec``; hold the admission while the block runs.

        The caller saves the instance's (building) record inside the
        block, so that the next create counts it: two creates can never
        both be admitted for the last free memory.

        :raises: InsufficientResources
        """
        # Asking the driver about images is done before taking the lock:
        # it may read the image source.
        disk_mb = self.disk_mb(spec)[0]
        with self._lock:
            self.check(spec, disk_mb)
            yield

    @contextlib.contextmanager
    def claim_disk(self, uuid, spec, disk):
        """Admit one more disk of an instance (attach_disk).

        The disk counts as a create's would (``size_mb``, else its
        image's size if the driver knows it, a cdrom 0) and is checked
        against the disk capacity only, under the lock of
        :meth:`claim`. The claim is then kept, and counted by
        :meth:`usage`, until the block ends, without the lock: the
        caller creates the disk (which may fetch an image) and stores
        the spec that names it inside the block, so every create or
        attach admitted meanwhile counts it, and afterwards the record
        does. A disk that counts 0 is not checked: it takes nothing.

        :param uuid: the instance's uuid; the caller holds its lock
        :param spec: the instance's InstanceSpec, without ``disk``
        :param disk: the DiskSpec, its target assigned
        :raises: InsufficientResources, before the block runs, naming
            the disk and the space it lacks
        """
        mb = self.disk_mb(dataclasses.replace(spec, disks=(disk,)))[0]
        if not mb:
            yield
            return
        key = (uuid, disk.target)
        with self._lock:
            short = self._shortages({'disk_mb': mb})
            if short:
                reason = '; '.join(short)
                raise exception.InsufficientResources(
                    'The host cannot fit disk %s of instance %s: %s'
                    % (disk.target, uuid, reason), reason=reason)
            with self._memo_lock:
                self._attaching[key] = mb
        try:
            yield
        finally:
            with self._memo_lock:
                del self._attaching[key]
