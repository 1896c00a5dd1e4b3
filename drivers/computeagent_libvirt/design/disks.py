"""Disk policy: bus, cache mode, aio, IOThreads, throttling, boot order.

Turns each normalized disk spec plus its planned files (a
:class:`computeagent_libvirt.storage.instance.PlannedDisk`) into a
:class:`computeagent_libvirt.config.disks.Disk`. The storage layer decides the
files; this module decides how the guest sees them.

The spec is a validated one (:mod:`computeagent.schema.instance`), so
what a request may ask for is not checked again here; only what depends
on this host is: the machine type's buses, O_DIRECT support and the
cache mode ``[disk] cachemodes`` picks.
"""

from computeagent import exception
from computeagent.virt import diskmodes
from computeagent_libvirt.config import disks as disk_config

#: disk source types that [disk] cachemodes may name (as in nova)
CACHEMODE_TYPES = ('file', 'block', 'network')


def parse_cachemodes(entries):
    """Parse ``[disk] cachemodes``, nova's list of ``type=mode`` pairs.

    :param entries: iterable of str such as ``"file=none"``
    :returns: dict of disk source type to cache mode
    :raises: ValueError naming the first malformed entry (no ``=``, an
        unknown type or mode, or a type given twice); the driver checks
        the option at start so a typo is a start-up error
    """
    modes = {}
    for entry in entries:
        disk_type, sep, mode = entry.partition('=')
        disk_type = disk_type.strip().lower()
        mode = mode.strip().lower()
        if not sep:
            raise ValueError('%r is not of the form type=mode' % entry)
        if disk_type not in CACHEMODE_TYPES:
            raise ValueError('%r: unknown disk type %r (one of %s)' %
                             (entry, disk_type, ', '.join(CACHEMODE_TYPES)))
        if mode not in diskmodes.CACHE_MODES:
            raise ValueError('%r: unknown cache mode %r (one of %s)' %
                             (entry, mode, ', '.join(diskmodes.CACHE_MODES)))
        if disk_type in modes:
            raise ValueError('disk type %r is given twice' % disk_type)
        modes[disk_type] = mode
    return modes


def load_cachemodes(conf):
    """``[disk] cachemodes`` parsed (:func:`parse_cachemodes`).

    :param conf: the ConfigOpts
    :raises: DriverError naming the malformed entry
    """
    try:
        return parse_cachemodes(conf.disk.cachemodes)
    except ValueError as e:
        raise exception.DriverError(
            reason='invalid [disk] cachemodes: %s' % e)


def choose_cache(index, disk, source_type, cachemodes, direct_io):
    """The disk's cache mode and where it came from.

    Precedence: the spec's ``cache``; then ``[disk] cachemodes`` for the
    disk's source type; then 'none' if the instances path supports
    O_DIRECT, else 'writethrough' (also when the probe did not run).

    :param index: the disk's position in the spec, for error messages
    :param disk: the DiskSpec
    :param source_type: 'file' or 'block'
    :param cachemodes: output of :func:`parse_cachemodes`
    :param direct_io: the O_DIRECT probe result, or None if unknown
    :returns: (mode, origin); origin says where the mode came from, for
        error messages
    :raises: InvalidSpec when the spec asks for an O_DIRECT mode on a
        path known not to support O_DIRECT (QEMU would fail to open it)
    """
    if disk.cache is not None:
        if disk.cache in diskmodes.O_DIRECT_MODES and direct_io is False:
            raise exception.InvalidSpec(
                field='disks[%d].cache' % index,
                reason="cache %r needs O_DIRECT, which the instances path "
                       "does not support" % disk.cache)
        return disk.cache, 'the spec'
    if source_type in cachemodes:
        return cachemodes[source_type], '[disk] cachemodes'
    return diskmodes.default_cache(direct_io), 'the O_DIRECT probe'


def choose_aio(index, disk, cache, cache_origin):
    """The disk's aio mode (libvirt's ``io``) for the resolved cache mode.

    The spec's ``aio`` if given, else
    :func:`computeagent.virt.diskmodes.default_aio` of the cache mode.

    :raises: InvalidSpec if the spec asks for 'native' and this host
        chose a cache mode that does not use O_DIRECT (the schema refuses
        a spec that names such a cache mode itself); QEMU refuses that
        combination
    """
    aio = disk.aio
    if aio is None:
        return diskmodes.default_aio(cache)
    if aio == 'native' and not diskmodes.native_aio_allowed(cache):
        raise exception.InvalidSpec(
            field='disks[%d].aio' % index,
            reason="aio 'native' needs cache 'none' or 'directsync', but "
                   "the disk's cache is %r (from %s)" % (cache, cache_origin))
    return aio


def design_disk(index, disk, plan, cachemodes, direct_io, machine_type):
    """Build the Disk config of one disk (without its IOThread number).

    :param index: the disk's position in the spec
    :param disk: the DiskSpec
    :param plan: the disk's storage.instance.PlannedDisk
    :param cachemodes: output of :func:`parse_cachemodes`
    :param direct_io: the O_DIRECT probe result, or None if unknown
    :param machine_type: the guest's machine type (q35 has no IDE bus)
    :returns: a disk_config.Disk
    :raises: InvalidSpec (what this host cannot do), DriverError (a plan
        without a path for a disk)
    """
    bus = disk.bus
    if bus in ('ide', 'fdc') and 'q35' in (machine_type or ''):
        raise exception.InvalidSpec(
            field='disks[%d].bus' % index,
            reason='machine type %s has no %s bus'
                   % (machine_type, bus.upper()))

    conf = disk_config.Disk()
    conf.source_type = plan.source_type
    conf.device = disk.device
    conf.source_path = plan.path
    if conf.source_path is None and conf.device != 'cdrom':
        raise exception.DriverError(
            reason='the storage plan gives disk %s no path' % disk.target)
    conf.driver_format = plan.format
    if conf.source_path is not None:
        conf.backing = [tuple(item) for item in plan.backing]
    conf.driver_cache, origin = choose_cache(index, disk, conf.source_type,
                                             cachemodes, direct_io)
    conf.driver_io = choose_aio(index, disk, conf.driver_cache, origin)
    conf.driver_discard = disk.discard
    conf.target_dev = disk.target
    conf.target_bus = bus
    if disk.iotune:
        conf.iotune = dict(disk.iotune)
    conf.readonly = disk.readonly
    conf.serial = disk.serial
    conf.boot_order = disk.boot_index
    conf.snapshot = bool(plan.snapshot)
    return conf


def design_disks(spec, disk_plan, cachemodes, direct_io, machine_type,
                 boot_indexes):
    """Build every disk, the controllers they need and their IOThreads.

    IOThreads are numbered 1, 2, ... in disk order, one per virtio disk
    that asked for one.

    :param spec: the InstanceSpec
    :param disk_plan: dict of target to storage.instance.PlannedDisk
    :param boot_indexes: each disk's boot index, in spec order (the
        disks' own, or those of the spec's letter boot_order:
        :func:`computeagent.virt.bootorder.boot_indexes`)
    :returns: (disks, controllers, iothread_count)
    :raises: InvalidSpec, DriverError (a disk missing from the plan)
    """
    disks = []
    iothreads = 0
    for index, disk in enumerate(spec.disks):
        plan = disk_plan.get(disk.target)
        if plan is None:
            raise exception.DriverError(
                reason='the storage plan has no entry for disk %s' %
                       disk.target)
        conf = design_disk(index, disk, plan, cachemodes, direct_io,
                           machine_type)
        conf.boot_order = boot_indexes[index]
        if disk.iothread:
            iothreads += 1
            conf.driver_iothread = iothreads
        disks.append(conf)

    return disks, controllers_for(disks), iothreads


def controllers_for(disks):
    """The controllers ``disks`` need that libvirt would not add right.

    :param disks: disk_config.Disk objects
    :returns: list of disk_config.Controller
    """
    # virtio-scsi is a PCI device libvirt does not add by itself (it would
    # pick an emulated LSI controller); SATA and IDE controllers are
    # implicit in the machine type or added by libvirt.
    if any(d.target_bus == 'scsi' for d in disks):
        return [disk_config.Controller('scsi', index=0,
                                       model='virtio-scsi')]
    return []


def design_added_disk(index, disk, plan, cachemodes, direct_io,
                      machine_type, last_iothread=0, controllers=()):
    """Design a disk added to a defined guest (attach_disk).

    The same decisions as :func:`design_disks`: the disk itself by
    :func:`design_disk`, its IOThread numbered after the guest's last
    one, and the controllers of :func:`controllers_for` that the guest
    does not have yet.

    :param index: the disk's position in the instance's disks
    :param last_iothread: the highest IOThread id the guest has (0: none)
    :param controllers: (type, index) of each controller the guest has
    :returns: (Disk, controllers to add before the disk, the IOThread id
        to add to the guest or None)
    :raises: InvalidSpec, DriverError
    """
    conf = design_disk(index, disk, plan, cachemodes, direct_io,
                       machine_type)
    iothread = None
    if disk.iothread:
        iothread = last_iothread + 1
        conf.driver_iothread = iothread
    have = set(controllers)
    missing = [c for c in controllers_for([conf])
               if (c.type, c.index) not in have]
    return conf, missing, iothread
