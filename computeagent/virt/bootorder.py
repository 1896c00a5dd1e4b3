"""The letter boot order (QEMU's ``-boot order=cdn``) as boot indexes.

A spec's ``boot_order`` is an alternative to per-device ``boot_index``:
a string of the letters of :data:`LETTERS`, each at most once (the
schema, :mod:`computeagent.schema.bootorder`, checks it). The guest
gets per-device boot indexes all the same (libvirt refuses ``<os><boot
dev>`` beside per-device ``<boot order>``, and only the latter can name
one disk among several), so the letters are translated here, once, for
every caller: the drivers' designers and ``set_boot_order``.

Each letter takes the devices of its kind in spec order: the first
device of that kind, then the next. A letter whose kind has no device
adds nothing, as QEMU's ``-boot order=n`` on a guest without a nic
boots the other devices.
"""

import dataclasses
import typing

#: letter -> the disk ``device`` it boots, or 'nic' for the network
LETTERS = {'c': 'disk', 'd': 'cdrom', 'a': 'floppy', 'n': 'nic'}


@dataclasses.dataclass(frozen=True)
class BootIndexes(object):
    """The boot index of every device, in spec order (None: not booted).

    :ivar disks: tuple of int or None, one per disk
    :ivar nics: tuple of int or None, one per nic
    """

    disks: typing.Tuple[typing.Optional[int], ...]
    nics: typing.Tuple[typing.Optional[int], ...]


def boot_indexes(boot_order, disks, nics):
    """The boot index of each device under ``boot_order``.

    With no letters (None) each device keeps its own ``boot_index``.
    With letters, boot indexes 1, 2, ... go to the devices of the first
    letter's kind in spec order, then to those of the next letter, and
    every other device gets none.

    :param boot_order: a validated letter string, or None
    :param disks: the DiskSpecs (or anything with ``device`` and
        ``boot_index``) in spec order
    :param nics: the NicSpecs (with ``boot_index``) in spec order
    :returns: a BootIndexes
    """
    if boot_order is None:
        return BootIndexes(disks=tuple(d.boot_index for d in disks),
                           nics=tuple(n.boot_index for n in nics))
    disk_indexes = [None] * len(disks)
    nic_indexes = [None] * len(nics)
    index = 0
    for letter in boot_order:
        kind = LETTERS[letter]
        if kind == 'nic':
            positions, indexes = range(len(nics)), nic_indexes
        else:
            positions = [i for i, d in enumerate(disks) if d.device == kind]
            indexes = disk_indexes
        for position in positions:
            index += 1
            indexes[position] = index
    return BootIndexes(disks=tuple(disk_indexes), nics=tuple(nic_indexes))
