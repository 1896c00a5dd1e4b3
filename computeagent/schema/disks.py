"""Disk rules of the request schema, and the field checkers it shares.

Part of :mod:`computeagent.schema.instance`, split off to keep modules small;
callers use :mod:`computeagent.schema.instance`. The first half holds the field
checkers both modules use: each takes a value and the path naming it
(``disks[1].cache``) and returns the value or raises ``InvalidSpec``
naming that path. The second half validates disk specs and assigns
targets.
"""

import dataclasses
import os
import re

from computeagent import exception
from computeagent.objects import spec as spec_obj
from computeagent.virt import diskmodes

DISK_KEYS = ('source', 'device', 'bus', 'target', 'format', 'size_mb',
             'boot_index', 'cache', 'aio', 'iothread', 'discard', 'iotune',
             'snapshot', 'readonly', 'serial')
DEVICES = ('disk', 'cdrom', 'floppy')
BUSES = ('virtio', 'scsi', 'sata', 'ide', 'fdc')
FORMATS = ('qcow2', 'raw')
CACHE_MODES = diskmodes.CACHE_MODES
AIO_MODES = diskmodes.AIO_MODES
DISCARD_MODES = ('unmap', 'ignore')
# QEMU's THROTTLE_VALUE_MAX: it refuses larger limits.
MAX_IOTUNE = 10 ** 15
MAX_SIZE_MB = 16 * 1024 * 1024  # 16 TiB
MAX_BOOT_INDEX = 65535
MAX_IMAGE_REF = 255
MAX_DEVICE_PATH = 255

# sata and scsi disks share the sd namespace, as in libvirt.
TARGET_PREFIXES = {'virtio': 'vd', 'scsi': 'sd', 'sata': 'sd', 'ide': 'hd',
                   'fdc': 'fd'}
# The PC's two IDE channels take two devices each: hda to hdd.
IDE_TARGETS = ('hda', 'hdb', 'hdc', 'hdd')
# The PC's floppy controller takes two drives: fda and fdb.
FLOPPY_TARGETS = ('fda', 'fdb')
# The buses with a fixed set of targets, and those targets.
FIXED_TARGETS = {'ide': IDE_TARGETS, 'fdc': FLOPPY_TARGETS}
# What a floppy cannot have, with the value meaning "not used": its size
# is its medium's (a blank one is 1.44 MB), and QEMU's floppy device has
# no serial property and no data-plane, and is not given an overlay.
FLOPPY_UNUSED = {'size_mb': None, 'snapshot': False, 'iothread': False,
                 'serial': None}
_TARGET_RE = re.compile(r'(vd|sd|hd)[a-z]{1,2}|fd[ab]')
_SERIAL_RE = re.compile(r'[A-Za-z0-9_-]{1,20}')


# Field checkers.

def fail(field, reason):
    """:raises: InvalidSpec naming ``field``"""
    raise exception.InvalidSpec(field=field, reason=reason)


def kind(value):
    """The JSON name of ``value``'s type, for messages."""
    names = {type(None): 'null', bool: 'a boolean', int: 'an integer',
             float: 'a number', str: 'a string', list: 'a list',
             tuple: 'a list', dict: 'an object'}
    return names.get(type(value), type(value).__name__)


def short(value):
    """``value`` quoted for a message, cut so a message stays small."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + '...'


def join(prefix, key):
    return '%s.%s' % (prefix, key) if prefix else key


def mapping(value, field, allowed, required=(), prefix=None):
    """Check that ``value`` is a dict of known keys with the required ones.

    :param prefix: the path its keys are named under; ``field`` if None
    """
    prefix = field if prefix is None else prefix
    if not isinstance(value, dict):
        fail(field, 'must be an object, not %s' % kind(value))
    unknown = sorted((key for key in value if key not in allowed), key=repr)
    if unknown:
        key = unknown[0]
        if isinstance(key, str) and key.isprintable() and len(key) <= 40:
            fail(join(prefix, key), 'is not a known key')
        fail(field, 'has an unknown key %s' % short(key))
    for key in required:
        if key not in value:
            fail(join(prefix, key), 'is required')
    return value


def sequence(value, field, least, most):
    if not isinstance(value, (list, tuple)):
        fail(field, 'must be a list, not %s' % kind(value))
    if not least <= len(value) <= most:
        fail(field, 'must have %d to %d entries, not %d'
             % (least, most, len(value)))
    return value


def boolean(value, field):
    if type(value) is not bool:
        fail(field, 'must be true or false, not %s' % kind(value))
    return value


def integer(value, field, least, most=None):
    if not isinstance(value, int) or isinstance(value, bool):
        fail(field, 'must be an integer, not %s' % kind(value))
    if value < least or (most is not None and value > most):
        if most is None:
            fail(field, 'must be at least %d, not %d' % (least, value))
        fail(field, 'must be from %d to %d, not %s'
             % (least, most, short(value)))
    return value


def choice(value, field, choices):
    if not isinstance(value, str) or value not in choices:
        fail(field, 'must be one of %s, not %s'
             % (', '.join(choices), short(value)))
    return value


def string(value, field, most, pattern=None):
    """A printable string of 1 to ``most`` characters matching pattern."""
    if not isinstance(value, str):
        fail(field, 'must be a string, not %s' % kind(value))
    if not 0 < len(value) <= most:
        fail(field, 'must have 1 to %d characters, not %d'
             % (most, len(value)))
    if not value.isprintable():
        fail(field, 'must not contain control or unprintable characters')
    # fullmatch: "$" would let a trailing newline through.
    if pattern is not None and not pattern.fullmatch(value):
        fail(field, 'must match %s' % pattern.pattern)
    return value


def default(container, key, prefix, value, check, *args):
    """``container[key]`` checked, or ``value`` when the key is absent."""
    if key not in container:
        return value
    return check(container[key], join(prefix, key), *args)


def optional(container, key, prefix, check, *args):
    """``container[key]`` checked, or None when absent or null."""
    if container.get(key) is None:
        return None
    return check(container[key], join(prefix, key), *args)


def boot_index(value, field):
    return integer(value, field, 1, MAX_BOOT_INDEX)


# Disks.

def validate_target(value, field):
    string(value, field, 4, _TARGET_RE)
    if value.startswith('hd') and value not in IDE_TARGETS:
        fail(field, 'ide has only hda to hdd')
    return value


def default_bus(device):
    """The bus of a disk spec that names none."""
    return {'cdrom': 'sata', 'floppy': 'fdc'}.get(device, 'virtio')


def default_format(device, conf):
    """The format of a disk spec that names none.

    A floppy is always raw: QEMU's floppy drive guesses the medium's
    geometry from the image's size, so the image must be the medium
    itself, not an overlay.
    """
    return 'raw' if device == 'floppy' else conf.disk.default_format


def validate_image_ref(value, field, allow_none=False):
    if value is None and allow_none:
        return None
    return string(value, field, MAX_IMAGE_REF)


def _source(value, field):
    mapping(value, field, ('image', 'blank', 'host_device'))
    if len(value) != 1:
        fail(field, 'must have exactly one of "image", "blank" and '
             '"host_device"')
    if 'blank' in value:
        if value['blank'] is not True:
            fail(field + '.blank', 'must be true')
        return spec_obj.DiskSource()
    if 'host_device' in value:
        return spec_obj.DiskSource(host_device=string(
            value['host_device'], field + '.host_device', MAX_DEVICE_PATH))
    return spec_obj.DiskSource(
        image=validate_image_ref(value['image'], field + '.image'))


def _check_host_device(disk, field, conf):
    """A host device source: a cdrom's, and one ``[disk]`` lets guests use.

    Whether the path is a block device is seen where it is opened (the
    driver's storage); the schema knows only the request and the
    configuration.
    """
    path = disk.source.host_device
    field += '.source.host_device'
    if not disk.is_cdrom:
        fail(field, 'only a cdrom can use a host device, not a %s'
             % disk.device)
    if not os.path.isabs(path) or os.path.normpath(path) != path:
        fail(field, 'must be an absolute, normalized path, not %s'
             % short(path))
    if path not in conf.disk.host_cdrom_devices:
        fail(field, '%s is not one of the host cdrom drives that '
             '[disk] host_cdrom_devices allows (%s)'
             % (path, ', '.join(conf.disk.host_cdrom_devices) or 'none'))


def _iotune(value, field):
    mapping(value, field, spec_obj.IOTUNE_KEYS)
    result = {key: integer(value[key], join(field, key), 0, MAX_IOTUNE)
              for key in spec_obj.IOTUNE_KEYS if key in value}
    # libvirt refuses a total limit beside a read or write one of its kind.
    for unit in ('bytes', 'iops'):
        if 'total_%s_sec' % unit in result:
            for rw in ('read', 'write'):
                key = '%s_%s_sec' % (rw, unit)
                if key in result:
                    fail(join(field, key), 'cannot be combined with '
                         'total_%s_sec' % unit)
    return spec_obj.pairs(result) or None


def _serial(value, field):
    return string(value, field, 20, _SERIAL_RE)


def validate_one(disk, field, conf):
    """Validate one disk spec on its own; its target may stay None.

    :returns: a DiskSpec
    :raises: InvalidSpec naming the offending field
    """
    mapping(disk, field, DISK_KEYS, ('source',))
    source = _source(disk['source'], field + '.source')
    device = default(disk, 'device', field, 'disk', choice, DEVICES)
    cdrom = device == 'cdrom'
    bus = default(disk, 'bus', field, default_bus(device), choice, BUSES)
    result = spec_obj.DiskSpec(
        source=source,
        device=device,
        bus=bus,
        target=optional(disk, 'target', field, validate_target),
        format=default(disk, 'format', field, default_format(device, conf),
                       choice, FORMATS),
        size_mb=optional(disk, 'size_mb', field, integer, 1, MAX_SIZE_MB),
        boot_index=optional(disk, 'boot_index', field, boot_index),
        cache=optional(disk, 'cache', field, choice, CACHE_MODES),
        aio=optional(disk, 'aio', field, choice, AIO_MODES),
        iothread=default(disk, 'iothread', field, False, boolean),
        discard=default(disk, 'discard', field, 'ignore', choice,
                        DISCARD_MODES),
        iotune=optional(disk, 'iotune', field, _iotune),
        snapshot=default(disk, 'snapshot', field, False, boolean),
        readonly=default(disk, 'readonly', field, cdrom, boolean),
        serial=optional(disk, 'serial', field, _serial),
    )
    _check_consistency(result, field)
    if source.host_device is not None:
        _check_host_device(result, field, conf)
    return result


def _check_floppy(disk, field):
    """What QEMU's floppy drive (isa-fdc) and libvirt cannot do."""
    if disk.bus != 'fdc':
        fail(field + '.bus', 'a floppy is on the fdc bus, not %s' % disk.bus)
    if disk.format != 'raw':
        fail(field + '.format', 'a floppy is raw (the drive takes its '
             'geometry from the image\'s size), not %s' % disk.format)
    for key, unused in FLOPPY_UNUSED.items():
        if getattr(disk, key) != unused:
            fail(join(field, key), 'is not allowed for a floppy')


def _check_consistency(disk, field):
    bus = disk.bus
    if disk.is_floppy:
        _check_floppy(disk, field)
    elif bus == 'fdc':
        fail(field + '.bus', 'fdc takes only floppies, not a %s'
             % disk.device)
    if disk.is_cdrom:
        if bus == 'virtio':
            fail(field + '.bus', 'a cdrom cannot be on the virtio bus '
                 '(virtio-blk has no removable media); use sata, scsi '
                 'or ide')
        for key in ('size_mb', 'snapshot'):
            if getattr(disk, key):
                fail(join(field, key), 'is not allowed for a cdrom')
        if not disk.readonly:
            fail(field + '.readonly', 'a cdrom is always read-only')
    elif (disk.source.blank and disk.size_mb is None
            and not disk.is_floppy):
        # A blank floppy is the 1.44 MB medium.
        fail(field + '.size_mb', 'is required for a blank disk')
    if disk.iothread and bus != 'virtio':
        fail(field + '.iothread', 'needs the virtio bus, not %s' % bus)
    # A cache mode the host chooses later is checked by the driver.
    if (disk.aio == 'native' and disk.cache is not None and
            not diskmodes.native_aio_allowed(disk.cache)):
        fail(field + '.aio', 'native needs cache none or directsync, '
             'not %s' % disk.cache)
    target = disk.target
    if target is not None and target[:2] != TARGET_PREFIXES[bus]:
        fail(field + '.target', 'a %s disk\'s target starts with %s'
             % (bus, TARGET_PREFIXES[bus]))


def _suffix(index):
    """0 -> a, 25 -> z, 26 -> aa, ... as libvirt names disks."""
    letters = ''
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord('a') + rest) + letters
    return letters


def _free_target(bus, used):
    if bus in FIXED_TARGETS:
        candidates = FIXED_TARGETS[bus]
    else:
        # Two letters at most: a to z, then aa to zz.
        candidates = (TARGET_PREFIXES[bus] + _suffix(i)
                      for i in range(26 + 26 * 26))
    for target in candidates:
        if target not in used:
            return target
    return None


def assign_targets(disks, fields, used):
    """Check given targets are unique, then name the others in order.

    Given targets are reserved first; each disk without one gets the
    first free name of its bus's prefix.

    :param disks: DiskSpecs, some without a target
    :param fields: the path naming each disk
    :param used: dict of targets already taken to what holds them
    :returns: the DiskSpecs in the same order, each with its target
    :raises: InvalidSpec on a duplicate or when a bus has no name left
    """
    used = dict(used)
    for disk, field in zip(disks, fields):
        target = disk.target
        if target is None:
            continue
        if target in used:
            fail(field + '.target', '%s is already used by %s'
                 % (target, used[target]))
        used[target] = field
    named = []
    for disk, field in zip(disks, fields):
        if disk.target is None:
            target = _free_target(disk.bus, used)
            if target is None:
                names = FIXED_TARGETS[disk.bus]
                fail(field + '.bus', 'no %s target is left (%s has only '
                     '%s to %s)' % (disk.bus, disk.bus, names[0],
                                    names[-1]))
            disk = dataclasses.replace(disk, target=target)
            used[target] = field
        named.append(disk)
    return named


def check_boot_indexes(devices, taken):
    """Refuse a boot index used twice over disks and nics.

    :param devices: (path, DiskSpec or NicSpec) pairs in order
    :param taken: dict of boot indexes already used to what uses them
    :raises: InvalidSpec naming the later device's boot_index
    """
    taken = dict(taken)
    for field, device in devices:
        index = device.boot_index
        if index is None:
            continue
        if index in taken:
            fail(field + '.boot_index', '%d is already used by %s'
                 % (index, taken[index]))
        taken[index] = field
