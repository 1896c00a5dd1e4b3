"""The guest designer: a normalized spec becomes a guest configuration.

All policy lives here and in :mod:`computeagent_libvirt.design.disks` and
:mod:`computeagent_libvirt.design.chardevs`: domain and machine type, boot
order, buses and controllers, cache/aio/IOThreads, serial and parallel
chardevs, video, graphics and NICs. The configuration objects of
:mod:`computeagent_libvirt.config.guest` only render what is decided here; the
storage layer decides the disk files (the "disk plan").

The spec is a validated one (:mod:`computeagent.schema.instance` decides
what a request may ask for); the designer only makes the choices that
depend on this host: O_DIRECT, the machine type's buses, ``[disk]
cachemodes``, the MACs it assigns.

Nothing here talks to libvirt; the driver defines the result through
:mod:`computeagent_libvirt.host`.
"""

import dataclasses
import os

from computeagent.objects import record as record_obj
from computeagent.virt import bootorder
from computeagent.virt import layout
from computeagent.virt import macs
from computeagent_libvirt.config import devices as device_config
from computeagent_libvirt.config import disks as disk_config
from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt.design import chardevs as chardev_design
from computeagent_libvirt.design import disks as disk_design


def domain_name(uuid):
    """The libvirt domain name of an instance.

    Derived from the uuid, so it is unique on the host and safe in file
    names (libvirt names its per-domain logs after it); the display name
    is kept in the domain's metadata instead.
    """
    return 'instance-%s' % uuid


def design_nics(spec, boot_indexes, rand_bytes=os.urandom):
    """The <interface> devices, with a MAC assigned where the spec has none.

    The spec's MACs are lower case and unique, and a network or bridge
    nic names its network or bridge (the schema sees to it).

    :param boot_indexes: the nics' boot indexes, in spec order
    :returns: list of device_config.Interface
    """
    taken = {nic.mac for nic in spec.nics if nic.mac is not None}
    interfaces = []
    for nic, boot_index in zip(spec.nics, boot_indexes):
        iface = device_config.Interface()
        iface.type = nic.type
        if nic.type == 'network':
            iface.source_network = nic.network
        elif nic.type == 'bridge':
            iface.source_bridge = nic.bridge
        if nic.mac is not None:
            iface.mac = nic.mac
        else:
            iface.mac = macs.generate(taken, rand_bytes)
            taken.add(iface.mac)
        iface.model = nic.model
        iface.boot_order = boot_index
        interfaces.append(iface)
    return interfaces


def design_guest(spec, disk_plan, conf, host_caps=None, direct_io=None,
                 rand_bytes=os.urandom):
    """Design the guest of a normalized spec.

    :param spec: the normalized instance spec (computeagent.schema.instance)
    :param disk_plan: dict of disk target to the storage layer's
        :class:`computeagent_libvirt.storage.instance.PlannedDisk`
        (``snapshot`` is recorded, not rendered)
    :param conf: the ConfigOpts ([DEFAULT], [disk] and [libvirt] options)
    :param host_caps: optional dict of host facts; ``'arch'`` sets the
        guest architecture (libvirt picks the host's when unset)
    :param direct_io: whether ``instances_path`` supports O_DIRECT (see
        :func:`computeagent_libvirt.storage.directio.probe_o_direct`);
        None = unknown, treated as unsupported for the default cache mode
    :param rand_bytes: random source of assigned MACs (tests)
    :returns: a guest_config.Guest; ``describe_disks``, ``describe_nics`` and
        ``describe_serial_ports`` and ``describe_parallel_ports`` read
        the decisions back from it
    :raises: InvalidSpec when the validated spec asks for what this host
        cannot do (e.g. aio 'native' with the cache mode the host chose,
        an IDE disk on q35);
        DriverError when ``[disk] cachemodes`` is malformed or the disk
        plan does not cover every disk
    """
    cachemodes = disk_design.load_cachemodes(conf)
    host_caps = host_caps or {}
    machine_type = conf.libvirt.machine_type

    guest = guest_config.Guest()
    guest.virt_type = conf.libvirt.virt_type
    guest.name = domain_name(spec.uuid)
    guest.uuid = spec.uuid
    guest.metadata.append(guest_config.InstanceMetadata(spec.name))
    guest.memory_kib = spec.memory_mb * 1024
    guest.vcpus = spec.vcpus
    guest.os_machine = machine_type
    guest.os_arch = host_caps.get('arch')
    # Only per-device <boot order> is used; libvirt refuses it mixed with
    # <os><boot dev>. The menu is left out rather than disabled when not
    # asked for, which is the firmware's default.
    if spec.boot_menu:
        guest.os_bootmenu = True
    guest.emulator = conf.libvirt.emulator

    # The letters of a boot_order become per-device boot indexes; without
    # letters each device keeps its own boot_index.
    boot_indexes = bootorder.boot_indexes(spec.boot_order, spec.disks,
                                          spec.nics)
    disks, controllers, guest.iothreads = disk_design.design_disks(
        spec, disk_plan, cachemodes, direct_io, machine_type,
        boot_indexes.disks)
    for device in disks + controllers:
        guest.add_device(device)
    for device in design_nics(spec, boot_indexes.nics, rand_bytes):
        guest.add_device(device)
    instance_dir = layout.instance_dir(conf.instances_path, spec.uuid)
    for device in (chardev_design.design_serials(spec, instance_dir) +
                   chardev_design.design_parallels(spec, instance_dir)):
        guest.add_device(device)
    graphics = spec.graphics
    if graphics is not None:
        guest.add_device(device_config.Graphics(
            graphics.type, listen=graphics.listen))
    guest.add_device(device_config.Video(spec.video))
    # No balloon: memory is not overcommitted and the device only adds a
    # guest driver and a host thread.
    guest.add_device(device_config.MemBalloon('none'))
    return guest


def _devices(guest, cls):
    return [d for d in guest.devices if type(d) is cls]


def describe_disk(disk):
    """The disk record of docs/api.md of one designed disk_config.Disk.

    ``path`` and ``format`` are those of the image the guest writes to, as
    the disk plan gave them.

    :returns: a DiskRecord
    """
    return record_obj.DiskRecord(
        target=disk.target_dev, device=disk.device, bus=disk.target_bus,
        path=disk.source_path, format=disk.driver_format,
        boot_index=disk.boot_order, cache=disk.driver_cache,
        aio=disk.driver_io, snapshot=disk.snapshot)


def describe_disks(guest):
    """The disk records of docs/api.md, from a designed guest, in disk order.

    :returns: list of :func:`describe_disk` DiskRecords
    """
    return [describe_disk(d) for d in _devices(guest, disk_config.Disk)]


def describe_nics(guest, spec):
    """The spec's nics with the MACs the design gave them, in spec order.

    Only the MAC is read back: a boot index that a letter boot_order
    gave a nic is the guest's, not the spec's (which keeps its letters).

    :param spec: the InstanceSpec ``guest`` was designed from
    :returns: tuple of NicSpec
    """
    interfaces = _devices(guest, device_config.Interface)
    return tuple(dataclasses.replace(nic, mac=iface.mac)
                 for nic, iface in zip(spec.nics, interfaces))


def _describe_ports(guest, cls):
    ports = []
    for dev in _devices(guest, cls):
        ports.append(record_obj.SerialPortRecord(
            index=dev.target_port,
            type=dev.type,
            path=dev.source_path,
            log_file=(dev.source_path if dev.type == 'file'
                      else dev.log_file),
            host=dev.source_host,
            port=(int(dev.source_service)
                  if dev.source_service is not None else None),
            bind_host=dev.bind_host,
            bind_port=(int(dev.bind_service)
                       if dev.bind_service is not None else None)))
    return tuple(ports)


def describe_serial_ports(guest):
    """The serial ports as designed, with the files they use.

    :returns: tuple of SerialPortRecord in port order: ``path`` the
        file of a file port, the socket of a unix port, the FIFOs' base
        name of a pipe port, else None; ``log_file`` what virtlogd
        writes (the file port's file or a port's log, else None);
        ``host`` and ``port`` for tcp and udp, ``bind_host`` and
        ``bind_port`` for udp
    """
    return _describe_ports(guest, device_config.Serial)


def describe_parallel_ports(guest):
    """The parallel ports as designed, as :func:`describe_serial_ports`.

    :returns: tuple of SerialPortRecord in port order
    """
    return _describe_ports(guest, device_config.Parallel)


def console_log(guest):
    """The log file of serial port 0, or None if nothing logs it."""
    for port in describe_serial_ports(guest):
        if port.index == 0:
            return port.log_file
    return None
