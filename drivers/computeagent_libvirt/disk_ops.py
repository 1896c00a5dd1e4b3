"""Disk operations of the libvirt driver: :class:`DiskOps`.

attach_disk, detach_disk, change_media and commit_disk, plus the helpers
that turn the manager's DiskRecords back into PlannedDisks. Devices
are designed by :mod:`computeagent_libvirt.design.disks` (the same decisions
as at spawn) and changed in the persistent definition, and in the guest
too when it runs.

detach_disk tells the truth about a running guest: the guest must
release the device, which libvirt reports with its device-removed event
(waited for up to ``[libvirt] device_detach_timeout``, the live XML
polled as the backstop). Only once the device is gone from the live
domain are its files removed. A guest that does not release it (no
hot-unplug support, or too slow) keeps the device and its files; the
persistent definition has already lost it (libvirt drops it there with
the request), so the guest's next start does not have it, and a later
detach_disk finishes the job: a guest that released the device
meanwhile, or no longer runs, has it removed at once.

commit_disk does what was seen to work with libvirt 9.0 and QEMU 7.2:
an active, shallow block commit of the snapshot disk's overlay into the
disk file, a pivot once the job is ready, then a fresh empty overlay (an
external disk-only snapshot at the same path, which libvirt creates) so
that later writes are temporary again, as with QEMU's own ``-snapshot``
and ``commit``.
"""

import dataclasses
import time

from oslo_log import log as logging

from computeagent import exception
from computeagent.objects import spec as spec_obj
from computeagent_libvirt.config import disks as disk_config
from computeagent_libvirt.config import snapshot as snapshot_config
from computeagent_libvirt.design import disks as disk_design
from computeagent_libvirt.design import guest as designer
from computeagent_libvirt import domain
from computeagent_libvirt.storage import instance as storage_mod

LOG = logging.getLogger(__name__)


def disk_record(described, planned):
    """The instance record's disk: the disk file, even for a snapshot disk.

    :param described: the DiskRecord of :func:`designer.describe_disk`
    :param planned: the disk's storage.instance.PlannedDisk
    :returns: a DiskRecord
    """
    if not planned.snapshot:
        return dataclasses.replace(described, snapshot=False)
    path, fmt = planned.backing[0]
    return dataclasses.replace(described, path=path, format=fmt,
                               snapshot=True)


def snapshot_disk(storage, uuid, disk):
    """The PlannedDisk of a snapshot disk, from its DiskRecord."""
    return storage_mod.PlannedDisk(
        target=disk.target, device=disk.device,
        path=storage.snapshot_path(uuid, disk.target), format='qcow2',
        backing=[(disk.path, disk.format)], snapshot=True)


def snapshot_disks(storage, instance):
    """The PlannedDisks of the instance's snapshot disks."""
    return [snapshot_disk(storage, instance.uuid, disk)
            for disk in instance.record.snapshot_disks()]


def _disk_files(storage, uuid, disk):
    """The PlannedDisk naming a disk's own files, from its DiskRecord."""
    if disk.snapshot:
        return snapshot_disk(storage, uuid, disk)
    return storage_mod.PlannedDisk(target=disk.target, device=disk.device,
                                   path=disk.path, format=disk.format)


def _guest_facts(guest):
    """(highest IOThread id, {(type, index)} of controllers) of a domain.

    :param guest: a config.guest.Guest read from libvirt
    """
    ids = guest.iothread_ids
    last = max(ids) if ids else guest.iothreads
    controllers = {(c.type, c.index)
                   for c in guest.find_devices(disk_config.Controller)}
    return last, controllers


def overlay_snapshot(guest, target, overlay):
    """A disk-only snapshot of one disk onto ``overlay``, no other disk.

    Every other disk is named with snapshot='no': libvirt would otherwise
    give each an external snapshot of its own.

    :param guest: the running domain's config.guest.Guest
    :returns: a config.snapshot.DomainSnapshot
    """
    snapshot = snapshot_config.DomainSnapshot()
    for disk in guest.find_devices(disk_config.Disk):
        if disk.target_dev != target:
            snapshot.disks.append(snapshot_config.SnapshotDisk(
                disk.target_dev, 'no'))
        else:
            snapshot.disks.append(snapshot_config.SnapshotDisk(
                disk.target_dev, 'external', 'qcow2', overlay))
    return snapshot


class DiskOps(object):
    """attach_disk, detach_disk, change_media, commit_disk.

    :param conf: the ConfigOpts (``[libvirt] machine_type`` and the
        block job's timeout and poll interval)
    :param host: the computeagent_libvirt.host.Host of the guests
    :param storage: the driver's storage.instance.InstanceStorage
    :param waiter: the driver's events.StateWaiter
    :param cache_inputs: the driver's cacheinputs.CacheInputs, from which
        devices are designed as at spawn
    """

    def __init__(self, conf, host, storage, waiter, cache_inputs):
        self.conf = conf
        self.host = host
        self.storage = storage
        self.waiter = waiter
        self.cache_inputs = cache_inputs

    def _domain(self, instance):
        """The instance's domain; DriverError if libvirt has none."""
        return domain.get(self.host, instance.uuid)

    def _design_disk(self, index, disk, planned, guest):
        last_iothread, controllers = _guest_facts(guest)
        return disk_design.design_added_disk(
            index, disk, planned, self.cache_inputs.cachemodes(),
            self.cache_inputs.direct_io(), self.conf.libvirt.machine_type,
            last_iothread, controllers)

    def attach_disk(self, instance, disk):
        """Create the disk and add it (hot-plugged if the guest runs).

        A virtio-scsi controller is added first if the guest has none,
        and an IOThread if the disk asks for one. On failure the disk's
        files (and the IOThread) are removed again.

        :raises: DriverError, before anything is made, if the running
            guest still holds a disk at the same target that the record
            does not name (a detach it never released, from before
            detach_disk waited for the release)
        """
        uuid = instance.uuid
        dom = self._domain(instance)
        live = dom.is_active()
        if live and disk.is_floppy:
            # QEMU's floppy controller has no hot-plug (the manager
            # refuses it first, from the record's state).
            raise exception.InvalidState(
                action='attach a floppy to', uuid=uuid, state='running')
        if live and dom.guest().disk(disk.target) is not None:
            # libvirt would refuse with "target duplicated"; say why.
            raise exception.DriverError(
                reason='the guest of %s has not released the disk detached '
                       'from %s earlier: the target is taken until the '
                       'guest stops; choose another target or stop and '
                       'start the instance' % (uuid, disk.target))
        index = len(instance.spec.disks)
        planned = self.storage.create_disk(uuid, disk, index)
        iothread = None
        try:
            conf, controllers, iothread = self._design_disk(
                index, disk, planned, dom.guest())
            if iothread is not None:
                dom.add_iothread(iothread, live)
            for controller in controllers:
                dom.attach_device(controller.to_xml(), live)
            dom.attach_device(conf.to_xml(), live)
        except Exception:
            LOG.warning('Attaching %(target)s to %(uuid)s failed; removing '
                        'its files', {'target': disk.target,
                                      'uuid': uuid})
            self._undo_attach(dom, uuid, planned, iothread, live)
            raise
        LOG.info('Attached disk %(target)s to %(uuid)s',
                 {'target': disk.target, 'uuid': uuid})
        return disk_record(designer.describe_disk(conf), planned)

    def _undo_attach(self, dom, uuid, planned, iothread, live):
        if iothread is not None:
            try:
                dom.del_iothread(iothread, live)
            except exception.DriverError as e:
                LOG.warning('Could not remove IOThread %(id)d of %(uuid)s: '
                            '%(error)s', {'id': iothread, 'uuid': uuid,
                                          'error': e})
        self.storage.delete_disk_files(uuid, planned)

    def detach_disk(self, instance, target):
        """Remove the disk from the guest and its definition, then its files.

        Also finishes an earlier detach the guest had not released: the
        request is made again if the guest still holds the device.

        :returns: True once the disk is gone from the guest, the
            definition and the disk; False if the running guest still
            holds it after ``[libvirt] device_detach_timeout``: its files
            are kept and the definition no longer has it
        :raises: DriverError if libvirt refused the request (nothing
            changed)
        """
        uuid = instance.uuid
        files = _disk_files(self.storage, uuid, instance.record.disk(target))
        dom = self._domain(instance)
        held = dom.guest().disk(target) if dom.is_active() else None
        if held is not None and not self._unplug(dom, target, held):
            LOG.warning('The guest of %(uuid)s has not released disk '
                        '%(target)s within %(timeout)s s; it keeps the '
                        'disk and its files until it releases it or stops',
                        {'uuid': uuid, 'target': target,
                         'timeout': self.conf.libvirt.device_detach_timeout})
            return False
        defined = dom.guest(inactive=True).disk(target)
        if defined is not None:
            dom.detach_device(defined.to_xml(), live=False)
        self.storage.delete_disk_files(uuid, files)
        LOG.info('Detached disk %(target)s from %(uuid)s',
                 {'target': target, 'uuid': uuid})
        return True

    def _unplug(self, dom, target, held):
        """Ask the running guest to release a disk; wait until it has.

        :param held: the disk's config.disks.Disk in the live XML
        :returns: whether the live domain no longer has the disk
        :raises: DriverError if libvirt refuses a first request
        """
        timeout = self.conf.libvirt.device_detach_timeout
        deadline = time.monotonic() + timeout
        alias = held.alias
        self.waiter.expect_removal(dom.uuid, alias)
        defined = dom.guest(inactive=True).disk(target) is not None
        try:
            dom.detach_device(held.to_xml(), live=True, config=defined)
        except exception.DriverError as e:
            if defined:
                raise
            # Asked before (the definition lost the disk then): QEMU may
            # refuse a second request while the first is pending.
            LOG.info('The guest of %(uuid)s was asked to release '
                     '%(target)s before; libvirt says: %(error)s',
                     {'uuid': dom.uuid, 'target': target, 'error': e})

        def removed():
            return (self.waiter.device_removed(dom.uuid, alias)
                    or dom.guest().disk(target) is None)
        self.waiter.wait_for(removed, max(0, deadline - time.monotonic()),
                             self.conf.libvirt.power_poll_interval)
        # The live XML has the last word, whatever the events said.
        return dom.guest().disk(target) is None

    def change_media(self, instance, target, image=None):
        """Insert a cached image into the cdrom at ``target``, or eject.

        :returns: the cdrom's new DiskRecord
        """
        index, disk = instance.spec.disk(target)
        disk = dataclasses.replace(disk,
                                   source=spec_obj.DiskSource(image=image))
        dom = self._domain(instance)
        # For a cdrom this fetches the image into the cache and creates
        # no file in the instance directory.
        planned = self.storage.create_disk(instance.uuid, disk, index)
        conf = disk_design.design_disk(
            index, disk, planned, self.cache_inputs.cachemodes(),
            self.cache_inputs.direct_io(), self.conf.libvirt.machine_type)
        dom.update_device(conf.to_xml(), dom.is_active())
        return disk_record(designer.describe_disk(conf), planned)

    def commit_disk(self, instance, target):
        """Merge a snapshot disk's overlay into its file; new overlay after.

        :raises: DriverError if the guest is not running, the job fails
            or does not finish within ``[libvirt] block_commit_timeout``
        """
        uuid = instance.uuid
        planned = snapshot_disk(self.storage, uuid,
                                instance.record.disk(target))
        dom = self._domain(instance)
        if not dom.is_active():
            raise exception.DriverError(
                reason='domain %s is not running: its snapshot overlays '
                       'are gone' % uuid)
        config_disk = dom.guest(inactive=True).disk(target)
        dom.commit_top(target)
        self._finish_commit(dom, target)
        LOG.info('Committed the snapshot overlay of %(target)s of %(uuid)s',
                 {'target': target, 'uuid': uuid})
        error = None
        try:
            # The guest now writes to the disk file; give it a new
            # temporary overlay. The old one is out of the chain.
            self.storage.discard_snapshot_overlay(planned)
            dom.snapshot_disks(overlay_snapshot(
                dom.guest(), target, planned.path).to_xml())
        except exception.DriverError as e:
            error = exception.DriverError(
                reason='the overlay of %s was merged, but a new one could '
                       'not be made (%s): until the guest stops, its '
                       'writes go to the disk file' % (target, e.kwargs.get(
                           'reason', e)))
        self._keep_overlay_in_config(dom, target, config_disk,
                                     planned.path)
        if error is not None:
            raise error

    def _finish_commit(self, dom, target):
        """Wait for the commit job to be ready, then pivot."""
        def ready():
            progress = dom.block_job(target)
            if progress is None:
                raise exception.DriverError(
                    reason='the commit job of %s ended before it was '
                           'ready' % target)
            cur, end = progress
            # libvirt reports cur == end only once the job is ready.
            return end > 0 and cur == end
        if not self.waiter.wait_for(
                ready, self.conf.libvirt.block_commit_timeout,
                self.conf.libvirt.block_job_poll_interval):
            dom.abort_block_job(target)
            raise exception.DriverError(
                reason='the commit of %s did not finish within %d s; '
                       'aborted, nothing changed' %
                       (target, self.conf.libvirt.block_commit_timeout))
        dom.pivot(target)

    def _keep_overlay_in_config(self, dom, target, config_disk, overlay):
        """Make the persistent definition open the overlay at next start.

        libvirt may have rewritten the definition's disk to the disk file
        after the pivot; the definition from before the commit is put
        back, so the next start runs on an overlay again.
        """
        current = dom.guest(inactive=True).disk(target)
        if (config_disk is None or current is None
                or current.source_path == overlay):
            return
        LOG.info('Restoring the overlay of %s in the persistent definition',
                 target)
        dom.detach_device(current.to_xml(), live=False)
        dom.attach_device(config_disk.to_xml(), live=False)
