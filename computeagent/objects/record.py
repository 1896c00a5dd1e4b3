"""The instance record of docs/api.md ("Instance record").

What every instance method answers and every ``instance.*``
notification carries, as :meth:`InstanceRecord.to_dict` gives it. The
builder makes a record (``building``) from a spec; the driver's
:class:`computeagent.virt.driver.Placement` fills in its disks, serial
ports and console log; the operations change it with
:func:`dataclasses.replace`.
"""

import dataclasses
import typing

from computeagent.objects import spec as spec_mod

#: the keys of the public record, in the order it gives them
RECORD_KEYS = ('uuid', 'name', 'host', 'state', 'vcpus', 'memory_mb',
               'disks', 'serial_ports', 'parallel_ports', 'console_log',
               'created_at',
               'metadata', 'error')


@dataclasses.dataclass(frozen=True)
class DiskRecord(object):
    """One built disk: the file the guest's disk is, as resolved.

    :ivar path: the disk file (a snapshot disk's file, not its temporary
        overlay; a cdrom's cached image, or None when empty)
    :ivar cache: the cache mode as resolved; :ivar aio: likewise
    """

    target: str
    device: str
    bus: str
    path: typing.Optional[str]
    format: typing.Optional[str]
    boot_index: typing.Optional[int]
    cache: str
    aio: str
    snapshot: bool

    def to_dict(self):
        return spec_mod.fields_dict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class SerialPortRecord(object):
    """One built serial or parallel port and the files it uses.

    :ivar path: a file port's file, a unix port's socket or a pipe
        port's FIFO base name, else None
    :ivar log_file: what virtlogd writes for the port, else None
    :ivar host: a tcp port's host or a udp port's remote host, else
        None; :ivar port: likewise
    :ivar bind_host: a udp port's local address, else None (also when
        the system chooses); :ivar bind_port: likewise
    """

    index: int
    type: str
    path: typing.Optional[str] = None
    log_file: typing.Optional[str] = None
    host: typing.Optional[str] = None
    port: typing.Optional[int] = None
    bind_host: typing.Optional[str] = None
    bind_port: typing.Optional[int] = None

    def to_dict(self):
        return spec_mod.fields_dict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


def _serial_port_from_dict(data):
    # While building, a record carries the spec's ports (no index).
    if 'index' in data:
        return SerialPortRecord.from_dict(data)
    return spec_mod.SerialPortSpec.from_dict(data)


@dataclasses.dataclass(frozen=True)
class InstanceRecord(object):
    """The public record of one instance.

    ``disks`` is a tuple of :class:`DiskRecord` (empty while
    ``building``); ``serial_ports`` and ``parallel_ports`` tuples of
    :class:`SerialPortRecord` once built, of the spec's
    :class:`computeagent.objects.spec.SerialPortSpec` while building;
    ``metadata`` a tuple of (key, value) pairs.
    """

    uuid: str
    name: str
    host: str
    state: typing.Optional[str]
    vcpus: int
    memory_mb: int
    disks: tuple
    serial_ports: tuple
    console_log: typing.Optional[str]
    created_at: str
    metadata: tuple
    error: typing.Optional[str] = None
    parallel_ports: tuple = ()

    def disk(self, target):
        """The disk record at ``target``.

        :returns: a DiskRecord
        :raises: InvalidSpec if the instance has no such disk
        """
        return spec_mod.find_disk(self.uuid, self.disks, target)[1]

    def snapshot_disks(self):
        """:returns: the DiskRecords of the snapshot disks, in order"""
        return tuple(disk for disk in self.disks if disk.snapshot)

    def to_dict(self):
        return {
            'uuid': self.uuid,
            'name': self.name,
            'host': self.host,
            'state': self.state,
            'vcpus': self.vcpus,
            'memory_mb': self.memory_mb,
            'disks': [disk.to_dict() for disk in self.disks],
            'serial_ports': [port.to_dict() for port in self.serial_ports],
            'parallel_ports': [port.to_dict()
                               for port in self.parallel_ports],
            'console_log': self.console_log,
            'created_at': self.created_at,
            'metadata': dict(self.metadata),
            'error': self.error,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(**dict(
            data,
            disks=tuple(DiskRecord.from_dict(d) for d in data['disks']),
            serial_ports=tuple(_serial_port_from_dict(p)
                               for p in data['serial_ports']),
            # Records stored before API 1.3 have no parallel ports.
            parallel_ports=tuple(_serial_port_from_dict(p)
                                 for p in data.get('parallel_ports', ())),
            metadata=spec_mod.pairs(data['metadata'])))
