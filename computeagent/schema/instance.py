"""The request schema: validation and normalization of instance specs.

:func:`validate_spec` turns a create_instance request into the normalized
spec the drivers consume (docs/api.md, "Instance spec"): an
:class:`computeagent.objects.spec.InstanceSpec` with every default filled
in and every disk target assigned. Anything
that is not exactly what docs/api.md allows raises ``InvalidSpec`` whose
``field`` is the path of the offending value (``disks[1].cache``),
whatever the input: None, lists for dicts and nested garbage never
surface as TypeError.

``null`` stands for "not given" only where the normalized value may itself
be None (``cache``, ``size_mb``, ``graphics``, ...); a key that does not
apply to a serial port or nic type is refused unless it carries the value
meaning "not used" (null, or false for ``log``), so a normalized spec is
itself a valid request and normalizes to itself.

Disk rules, target assignment and the field checkers live in
:mod:`computeagent.schema.disks`; serial and parallel ports in
:mod:`computeagent.schema.ports`.
"""

import hashlib
import ipaddress
import json
import re

from computeagent.objects import spec as spec_obj
from computeagent.schema import bootorder
from computeagent.schema import disks as fields
from computeagent.schema import ports
from computeagent.virt import consolelog
from computeagent.virt import layout
from computeagent.virt import macs

SPEC_KEYS = ('uuid', 'name', 'vcpus', 'memory_mb', 'disks', 'boot_menu',
             'boot_order', 'serial_ports', 'parallel_ports', 'video',
             'graphics', 'nics',
             'metadata')
VIDEO_MODELS = ('none', 'vga', 'cirrus', 'virtio')
NIC_TYPES = ('user', 'network', 'bridge')
NIC_MODELS = ('virtio', 'e1000', 'rtl8139')

MAX_VCPUS = 255
MIN_MEMORY_MB = 16
MAX_MEMORY_MB = 16 * 1024 * 1024  # 16 TiB
# More nics than this cannot fit the machine's PCI slots beside the disks.
MAX_NICS = 16
MAX_METADATA_ITEMS = 128
MAX_METADATA_KEY = 255
MAX_METADATA_VALUE = 1024
MAX_CONSOLE_BYTES = 10 * 1024 * 1024
DEFAULT_CONSOLE_BYTES = consolelog.DEFAULT_MAX_BYTES
MAX_STOP_TIMEOUT = 3600

_BRIDGE_RE = re.compile(r'[A-Za-z0-9_.-]{1,15}')
_COMPUTE_HOST_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]*')


def validate_spec(spec, conf):
    """Validate a create_instance spec and fill in every default.

    :param spec: the request's spec, as decoded from JSON
    :param conf: the ConfigOpts to read ``[disk]`` options from
    :returns: the normalized spec, an InstanceSpec
    :raises: InvalidSpec naming the offending field
    """
    fields.mapping(spec, 'spec', SPEC_KEYS, ('uuid', 'disks'), prefix='')
    uuid = validate_uuid(spec['uuid'])
    name = fields.default(spec, 'name', '', uuid, _name)
    disk_specs = fields.sequence(spec['disks'], 'disks', 1,
                                 conf.disk.max_disks)
    disks = fields.assign_targets(
        [fields.validate_one(disk, 'disks[%d]' % i, conf)
         for i, disk in enumerate(disk_specs)],
        ['disks[%d]' % i for i in range(len(disk_specs))], {})
    serial_specs = fields.default(spec, 'serial_ports', '', [{'type': 'file'}],
                                  fields.sequence, 0, ports.MAX_SERIAL_PORTS)
    serial_ports = [ports.serial_port(port, 'serial_ports[%d]' % i, conf)
                    for i, port in enumerate(serial_specs)]
    parallel_specs = fields.default(spec, 'parallel_ports', '', [],
                                    fields.sequence, 0,
                                    ports.MAX_PARALLEL_PORTS)
    parallel_ports = [ports.serial_port(port, 'parallel_ports[%d]' % i,
                                        conf, ports.PARALLEL_TYPES)
                      for i, port in enumerate(parallel_specs)]
    ports.check_bound_ports(
        [('serial_ports[%d]' % i, port)
         for i, port in enumerate(serial_ports)] +
        [('parallel_ports[%d]' % i, port)
         for i, port in enumerate(parallel_ports)])
    nic_specs = fields.default(spec, 'nics', '', [], fields.sequence,
                               0, MAX_NICS)
    nics = [_nic(nic, 'nics[%d]' % i) for i, nic in enumerate(nic_specs)]
    _check_macs(nics)
    devices = ([('disks[%d]' % i, disk) for i, disk in enumerate(disks)] +
               [('nics[%d]' % i, nic) for i, nic in enumerate(nics)])
    fields.check_boot_indexes(devices, {})
    boot_order = fields.optional(spec, 'boot_order', '',
                                 bootorder.validate_letters)
    bootorder.check_not_mixed(boot_order, devices)
    return spec_obj.InstanceSpec(
        uuid=uuid,
        name=name,
        vcpus=fields.default(spec, 'vcpus', '', 1, fields.integer,
                             1, MAX_VCPUS),
        memory_mb=fields.default(spec, 'memory_mb', '', 128,
                                 fields.integer, MIN_MEMORY_MB,
                                 MAX_MEMORY_MB),
        boot_menu=fields.default(spec, 'boot_menu', '', False,
                                 fields.boolean),
        boot_order=boot_order,
        video=fields.default(spec, 'video', '', 'none', fields.choice,
                             VIDEO_MODELS),
        graphics=fields.optional(spec, 'graphics', '', _graphics),
        metadata=fields.default(spec, 'metadata', '', (), _metadata),
        disks=tuple(disks),
        serial_ports=tuple(serial_ports),
        parallel_ports=tuple(parallel_ports),
        nics=tuple(nics),
    )


def validate_disk(disk, existing_disks, conf, field='disk', nics=(),
                  boot_order=None):
    """Validate a disk for attach_disk and assign its target.

    :param disk: the request's disk spec
    :param existing_disks: the instance's DiskSpecs
    :param conf: the ConfigOpts to read ``[disk]`` options from
    :param field: the path naming ``disk`` in errors
    :param nics: the instance's NicSpecs, whose boot indexes the disk may
        not reuse either
    :param boot_order: the instance's letter boot order, or None; with
        one, the disk may not have a boot index of its own
    :returns: a DiskSpec, its target free on the instance
    :raises: InvalidSpec naming the offending field, or ``field`` itself
        when the instance already has ``[disk] max_disks`` disks
    """
    existing_disks = list(existing_disks or ())
    if len(existing_disks) >= conf.disk.max_disks:
        fields.fail(field, 'the instance already has the most disks '
                    'allowed ([disk] max_disks = %d)' % conf.disk.max_disks)
    used = {d.target: 'disk %s' % d.target for d in existing_disks}
    [new] = fields.assign_targets(
        [fields.validate_one(disk, field, conf)], [field], used)
    taken = {}
    for kind, named in (('disk', [(d.target, d) for d in existing_disks]),
                        ('nic', enumerate(nics or ()))):
        for name, device in named:
            if device.boot_index is not None:
                taken[device.boot_index] = '%s %s' % (kind, name)
    fields.check_boot_indexes([(field, new)], taken)
    bootorder.check_not_mixed(boot_order, [(field, new)],
                              field="the instance's boot_order")
    return new


def validate_uuid(value, field='uuid'):
    """Check a UUID argument.

    :returns: ``value``, a canonical lower-case hyphenated UUID
    :raises: InvalidSpec otherwise
    """
    fields.string(value, field, 36)
    canonical = layout.canonical_uuid(value)
    if canonical is None:
        fields.fail(field, 'is not a UUID')
    if canonical != value:
        fields.fail(field, 'must be in canonical form (%s)' % canonical)
    return value


def validate_host(value, field='host'):
    """Check a compute host's name (its ``[DEFAULT] host``) argument.

    :returns: ``value``
    :raises: InvalidSpec unless it is letters, digits, ``.``, ``_`` and
        ``-``, starting with a letter or digit
    """
    fields.string(value, field, 253)
    if not _COMPUTE_HOST_RE.fullmatch(value):
        fields.fail(field, 'is not a compute host name')
    return value


def validate_target(value, field='target'):
    """Check a disk target argument.

    :returns: ``value``, a disk target such as ``vda``, ``sdb``, ``hdc``
    :raises: InvalidSpec otherwise
    """
    return fields.validate_target(value, field)


def validate_image_ref(value, field='image', allow_none=False):
    """Check an image reference argument.

    :returns: ``value``, a printable image reference of 1-255 chars,
        or None when ``allow_none`` and ``value`` is None
    :raises: InvalidSpec otherwise
    """
    return fields.validate_image_ref(value, field, allow_none)


def validate_bool(value, field):
    """Check a boolean argument (a real bool, not 0 or "false").

    :returns: ``value``
    :raises: InvalidSpec otherwise
    """
    return fields.boolean(value, field)


def validate_tail_lines(value, field='tail_lines'):
    """Check get_console_output's tail_lines.

    :returns: None or an int >= 0
    :raises: InvalidSpec otherwise
    """
    return None if value is None else fields.integer(value, field, 0)


def validate_max_bytes(value, field='max_bytes'):
    """Check get_console_output's max_bytes.

    :returns: an int from 1 to 10 MiB
    :raises: InvalidSpec otherwise
    """
    return fields.integer(value, field, 1, MAX_CONSOLE_BYTES)


def validate_timeout(value, field='timeout'):
    """Check stop_instance's timeout.

    :returns: seconds, an int from 0 to 3600
    :raises: InvalidSpec otherwise
    """
    return fields.integer(value, field, 0, MAX_STOP_TIMEOUT)


def spec_fingerprint(spec):
    """A stable digest of a request spec as given, to spot repeats.

    The request, not the normalized spec, is digested, so a change of
    configured defaults does not make a retried create look different.

    :returns: the hex sha256 of the spec's canonical JSON (sorted keys)
    :raises: InvalidSpec if the spec is not plain JSON data
    """
    try:
        text = json.dumps(spec, sort_keys=True, separators=(',', ':'),
                          allow_nan=False)
    except (TypeError, ValueError, RecursionError) as e:
        fields.fail('spec', 'is not plain JSON data (%s)' % e)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _name(value, field):
    return fields.string(value, field, 255)


def _ip_address(value, field):
    fields.string(value, field, 64)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        fields.fail(field, 'is not an IP address')
    return value


def _graphics(value, field):
    fields.mapping(value, field, ('type', 'listen'), ('type',))
    fields.choice(value['type'], field + '.type', ('vnc',))
    listen = fields.default(value, 'listen', field, '127.0.0.1',
                            _ip_address)
    return spec_obj.GraphicsSpec(type='vnc', listen=listen)


def _metadata(value, field):
    if not isinstance(value, dict):
        fields.fail(field, 'must be an object, not %s' % fields.kind(value))
    if len(value) > MAX_METADATA_ITEMS:
        fields.fail(field, 'has %d items, more than %d'
                    % (len(value), MAX_METADATA_ITEMS))
    result = {}
    for key, item in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= MAX_METADATA_KEY:
            fields.fail(field, 'key %s is not a string of 1 to %d '
                        'characters' % (fields.short(key), MAX_METADATA_KEY))
        if not isinstance(item, str) or len(item) > MAX_METADATA_VALUE:
            fields.fail(field, 'the value of %s is not a string of at most '
                        '%d characters' % (fields.short(key),
                                           MAX_METADATA_VALUE))
        result[key] = item
    return spec_obj.pairs(result)


def _network_name(value, field):
    fields.string(value, field, 255)
    if '/' in value:
        fields.fail(field, 'must not contain "/"')
    return value


def _bridge_name(value, field):
    fields.string(value, field, 15, _BRIDGE_RE)
    if value in ('.', '..'):
        fields.fail(field, 'is not a valid interface name')
    return value


def _mac(value, field):
    fields.string(value, field, 17)
    if not macs.is_guest_mac(value.lower()):
        fields.fail(field, 'must be a %s:xx:xx:xx address' % macs.PREFIX)
    return value.lower()


def _nic(nic, field):
    fields.mapping(nic, field, ('type', 'network', 'bridge', 'model',
                                'mac', 'boot_index'))
    kind = fields.default(nic, 'type', field, 'user', fields.choice,
                          NIC_TYPES)
    result = {'type': kind,
              'network': fields.optional(nic, 'network', field,
                                         _network_name),
              'bridge': fields.optional(nic, 'bridge', field, _bridge_name)}
    for key in ('network', 'bridge'):
        if kind == key and result[key] is None:
            fields.fail('%s.%s' % (field, key),
                        'is required for a %s nic' % kind)
        if kind != key and result[key] is not None:
            fields.fail('%s.%s' % (field, key),
                        'is not used by a %s nic' % kind)
    result['model'] = fields.default(nic, 'model', field, 'virtio',
                                     fields.choice, NIC_MODELS)
    result['mac'] = fields.optional(nic, 'mac', field, _mac)
    result['boot_index'] = fields.optional(nic, 'boot_index', field,
                                           fields.boot_index)
    return spec_obj.NicSpec(**result)


def _check_macs(nics):
    seen = set()
    for i, nic in enumerate(nics):
        if nic.mac is None:
            continue
        if nic.mac in seen:
            fields.fail('nics[%d].mac' % i, '%s is already used by another '
                        'nic' % nic.mac)
        seen.add(nic.mac)
