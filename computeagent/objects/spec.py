"""The normalized instance spec (docs/api.md, "Instance spec").

:func:`computeagent.schema.instance.validate_spec` makes an
:class:`InstanceSpec`; every default but the host-dependent ones (a
disk's ``cache`` and ``aio``) is filled in and every disk's target is
assigned. ``to_dict()`` gives the normalized spec as docs/api.md and the
stored ``instance.json`` write it, its keys in the same order.
"""

import dataclasses
import typing

from computeagent import exception

#: the keys of a disk's ``iotune``, in the order libvirt formats them
IOTUNE_KEYS = ('total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec',
               'total_iops_sec', 'read_iops_sec', 'write_iops_sec')


def pairs(mapping):
    """A mapping as the objects hold one: a tuple of (key, value) pairs.

    :param mapping: a dict, or None
    :returns: a tuple in the mapping's own order, or None
    """
    return None if mapping is None else tuple(mapping.items())


def as_dict(items):
    """The dict of a tuple of pairs (:func:`pairs`); None stays None."""
    return None if items is None else dict(items)


def fields_dict(obj):
    """The dict of a flat object: its fields, in the order declared.

    The objects declare their fields in docs/api.md's order, so this is
    also the order of the keys on the wire.
    """
    return {field.name: getattr(obj, field.name)
            for field in dataclasses.fields(obj)}


@dataclasses.dataclass(frozen=True)
class DiskSource(object):
    """A disk's ``source``: an image, a host's cdrom drive, or blank.

    :ivar image: the image reference, or None
    :ivar host_device: the path of a host's cdrom drive (a block device,
        since 1.3), or None
    """

    image: typing.Optional[str] = None
    host_device: typing.Optional[str] = None

    @property
    def blank(self):
        """Neither an image nor a host device: a blank disk, empty cdrom."""
        return self.image is None and self.host_device is None

    def to_dict(self):
        """The source on the wire.

        :returns: ``{"image": ref}``, ``{"host_device": path}`` or
            ``{"blank": true}``
        """
        if self.host_device is not None:
            return {'host_device': self.host_device}
        return {'blank': True} if self.blank else {'image': self.image}

    @classmethod
    def from_dict(cls, data):
        return cls(image=data.get('image'),
                   host_device=data.get('host_device'))


@dataclasses.dataclass(frozen=True)
class DiskSpec(object):
    """One normalized disk spec (docs/api.md, "Disk spec").

    ``target`` is None only inside the schema, before it is assigned;
    ``cache``, ``aio``, ``size_mb``, ``boot_index``, ``iotune`` and
    ``serial`` may be None. ``iotune`` is a tuple of (key, value) pairs
    of :data:`IOTUNE_KEYS`, or None.
    """

    source: DiskSource
    device: str = 'disk'
    bus: str = 'virtio'
    target: typing.Optional[str] = None
    format: str = 'qcow2'
    size_mb: typing.Optional[int] = None
    boot_index: typing.Optional[int] = None
    cache: typing.Optional[str] = None
    aio: typing.Optional[str] = None
    iothread: bool = False
    discard: str = 'ignore'
    iotune: typing.Optional[tuple] = None
    snapshot: bool = False
    readonly: bool = False
    serial: typing.Optional[str] = None

    @property
    def is_cdrom(self):
        return self.device == 'cdrom'

    @property
    def is_floppy(self):
        return self.device == 'floppy'

    @property
    def image(self):
        """The source's image reference, or None."""
        return self.source.image

    def to_dict(self):
        return {
            'source': self.source.to_dict(),
            'device': self.device,
            'bus': self.bus,
            'target': self.target,
            'format': self.format,
            'size_mb': self.size_mb,
            'boot_index': self.boot_index,
            'cache': self.cache,
            'aio': self.aio,
            'iothread': self.iothread,
            'discard': self.discard,
            'iotune': as_dict(self.iotune),
            'snapshot': self.snapshot,
            'readonly': self.readonly,
            'serial': self.serial,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(**dict(data, source=DiskSource.from_dict(data['source']),
                          iotune=pairs(data.get('iotune'))))


@dataclasses.dataclass(frozen=True)
class SerialPortSpec(object):
    """One normalized serial or parallel port: its type and extra keys.

    ``log`` is False, ``host``, ``port``, ``bind_host`` and ``bind_port``
    None where the type does not use them; ``host`` and ``port`` are a
    tcp port's listening address or a udp port's remote end,
    ``bind_host`` and ``bind_port`` a udp port's local end (either may be
    None: the system's choice).
    """

    type: str
    log: bool = False
    host: typing.Optional[str] = None
    port: typing.Optional[int] = None
    bind_host: typing.Optional[str] = None
    bind_port: typing.Optional[int] = None

    def to_dict(self):
        return fields_dict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class NicSpec(object):
    """One normalized nic; ``mac`` is None until a driver assigns one."""

    type: str = 'user'
    network: typing.Optional[str] = None
    bridge: typing.Optional[str] = None
    model: str = 'virtio'
    mac: typing.Optional[str] = None
    boot_index: typing.Optional[int] = None

    def to_dict(self):
        return fields_dict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class GraphicsSpec(object):
    """The guest's graphics: VNC listening on ``listen``."""

    type: str = 'vnc'
    listen: str = '127.0.0.1'

    def to_dict(self):
        return fields_dict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


def find_disk(uuid, disks, target):
    """The position and disk of ``target`` among an instance's disks.

    :param uuid: the instance's uuid, for the error
    :param disks: its DiskSpec or DiskRecord objects
    :returns: (index, disk)
    :raises: InvalidSpec naming ``target`` if no disk has that target
    """
    for index, disk in enumerate(disks):
        if disk.target == target:
            return index, disk
    raise exception.InvalidSpec(
        field='target', reason='instance %s has no disk %s' % (uuid, target))


@dataclasses.dataclass(frozen=True)
class InstanceSpec(object):
    """A normalized instance spec.

    ``disks``, ``serial_ports``, ``parallel_ports`` and ``nics`` are
    tuples of :class:`DiskSpec`, :class:`SerialPortSpec` (for both kinds
    of port) and :class:`NicSpec`;
    ``metadata`` is a tuple of (key, value) pairs in the request's order;
    ``boot_order`` is None or the letters of
    :mod:`computeagent.schema.bootorder`, as given (the boot indexes they
    stand for are worked out where the guest is designed).
    """

    uuid: str
    name: str
    disks: tuple
    vcpus: int = 1
    memory_mb: int = 128
    boot_menu: bool = False
    boot_order: typing.Optional[str] = None
    video: str = 'none'
    graphics: typing.Optional[GraphicsSpec] = None
    metadata: tuple = ()
    serial_ports: tuple = (SerialPortSpec('file'),)
    parallel_ports: tuple = ()
    nics: tuple = ()

    def disk(self, target):
        """The disk at ``target`` and its position.

        :returns: (index, DiskSpec)
        :raises: InvalidSpec if the spec has no such disk
        """
        return find_disk(self.uuid, self.disks, target)

    def to_dict(self):
        return {
            'uuid': self.uuid,
            'name': self.name,
            'vcpus': self.vcpus,
            'memory_mb': self.memory_mb,
            'boot_menu': self.boot_menu,
            'boot_order': self.boot_order,
            'video': self.video,
            'graphics': (self.graphics.to_dict()
                         if self.graphics is not None else None),
            'metadata': dict(self.metadata),
            'disks': [disk.to_dict() for disk in self.disks],
            'serial_ports': [port.to_dict() for port in self.serial_ports],
            'parallel_ports': [port.to_dict()
                               for port in self.parallel_ports],
            'nics': [nic.to_dict() for nic in self.nics],
        }

    @classmethod
    def from_dict(cls, data):
        graphics = data.get('graphics')
        return cls(**dict(
            data,
            graphics=(GraphicsSpec.from_dict(graphics)
                      if graphics is not None else None),
            metadata=pairs(data['metadata']),
            disks=tuple(DiskSpec.from_dict(d) for d in data['disks']),
            serial_ports=tuple(SerialPortSpec.from_dict(p)
                               for p in data['serial_ports']),
            # Specs stored before API 1.3 have no parallel ports.
            parallel_ports=tuple(SerialPortSpec.from_dict(p)
                                 for p in data.get('parallel_ports', ())),
            nics=tuple(NicSpec.from_dict(n) for n in data['nics'])))
