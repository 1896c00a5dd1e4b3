"""Building an instance spec from command-line flags or a spec file.

Flags take ``key=value`` lists, e.g. ``--disk image=cirros,boot_index=1``.
Values are converted by key so the agent sees the types docs/api.md names;
anything else is passed through as given and the agent's validation,
the only authority on specs, explains what is wrong.
"""

import json
import uuid as uuid_mod

import yaml

INT_KEYS = frozenset(('size_mb', 'boot_index', 'port', 'bind_port', 'vcpus',
                      'memory_mb', 'total_bytes_sec', 'read_bytes_sec',
                      'write_bytes_sec', 'total_iops_sec', 'read_iops_sec',
                      'write_iops_sec'))
BOOL_KEYS = frozenset(('iothread', 'snapshot', 'readonly', 'log', 'blank'))
IOTUNE_PREFIX = 'iotune.'


class SpecArgError(ValueError):
    """A flag that cannot be turned into a spec."""


def _convert(key, value):
    if key.startswith(IOTUNE_PREFIX):
        key = key[len(IOTUNE_PREFIX):]
    if key in INT_KEYS:
        try:
            return int(value)
        except ValueError:
            raise SpecArgError('%s must be a whole number, not %r'
                               % (key, value))
    if key in BOOL_KEYS:
        lowered = value.lower()
        if lowered in ('1', 'true', 'yes', 'on'):
            return True
        if lowered in ('0', 'false', 'no', 'off'):
            return False
        raise SpecArgError('%s must be true or false, not %r'
                           % (key, value))
    return value


def parse_pairs(text):
    """``"a=1,b=x"`` -> ``{"a": 1, "b": "x"}`` with per-key conversion."""
    result = {}
    for item in filter(None, (part.strip() for part in text.split(','))):
        key, sep, value = item.partition('=')
        if not sep:
            if key == 'blank':
                value = 'true'
            else:
                raise SpecArgError('expected key=value, got %r' % item)
        result[key] = _convert(key, value)
    return result


def disk_from_pairs(text, device='disk'):
    """A disk spec from its source and its disk keys.

    The source is ``image=NAME``, ``blank`` or (a cdrom's)
    ``host_device=PATH``; a cdrom or floppy without one is blank.
    """
    pairs = parse_pairs(text)
    disk = {}
    if 'image' in pairs:
        disk['source'] = {'image': pairs.pop('image')}
    elif 'host_device' in pairs:
        disk['source'] = {'host_device': pairs.pop('host_device')}
    elif pairs.pop('blank', False):
        disk['source'] = {'blank': True}
    elif device in ('cdrom', 'floppy'):
        disk['source'] = {'blank': True}
    else:
        raise SpecArgError('a disk needs image=NAME or blank')
    if device != 'disk':
        disk['device'] = device
    iotune = {k[len(IOTUNE_PREFIX):]: v for k, v in pairs.items()
              if k.startswith(IOTUNE_PREFIX)}
    disk.update({k: v for k, v in pairs.items()
                 if not k.startswith(IOTUNE_PREFIX)})
    if iotune:
        disk['iotune'] = iotune
    return disk


def load_spec_file(path):
    """A spec from a JSON or YAML file (JSON is a subset of YAML)."""
    with open(path) as f:
        text = f.read()
    try:
        return json.loads(text)
    except ValueError:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise SpecArgError('%s is neither JSON nor YAML: %s'
                               % (path, error))


def spec_from_args(args):
    """The create_instance spec of a ``boot`` command line."""
    spec = load_spec_file(args.spec) if args.spec else {}
    if not isinstance(spec, dict):
        raise SpecArgError('the spec file must hold a mapping')
    if args.uuid:
        spec['uuid'] = args.uuid
    spec.setdefault('uuid', str(uuid_mod.uuid4()))
    for key in ('name', 'vcpus', 'memory_mb', 'video'):
        value = getattr(args, key)
        if value is not None:
            spec[key] = value
    if args.boot_menu:
        spec['boot_menu'] = True
    if args.boot_order is not None:
        spec['boot_order'] = args.boot_order
    disks = [disk_from_pairs(d) for d in args.disk or ()]
    disks += [disk_from_pairs(d, device='cdrom') for d in args.cdrom or ()]
    disks += [disk_from_pairs(d, device='floppy')
              for d in args.floppy or ()]
    if disks:
        _extend(spec, 'disks', list, disks)
    if args.serial:
        spec['serial_ports'] = [parse_pairs(s) for s in args.serial]
    if args.parallel:
        spec['parallel_ports'] = [parse_pairs(p) for p in args.parallel]
    if args.nic:
        _extend(spec, 'nics', list, [parse_pairs(n) for n in args.nic])
    if args.vnc:
        spec['graphics'] = {'type': 'vnc', 'listen': args.vnc}
    metadata = {}
    for item in args.metadata or ():
        key, sep, value = item.partition('=')
        if not sep:
            raise SpecArgError('metadata must be key=value, got %r' % item)
        metadata[key] = value
    if metadata:
        _extend(spec, 'metadata', dict, metadata)
    return spec


def _extend(spec, key, kind, items):
    """Add the flags' ``items`` to what the spec file has under ``key``.

    :raises: SpecArgError if the file's value cannot take them (rather
        than a TypeError from adding to null or to a string)
    """
    current = spec.get(key)
    if current is None:
        current = kind()
    if not isinstance(current, kind):
        raise SpecArgError('%s in the spec file must be a %s to add the '
                           'flags to it' % (key, 'list' if kind is list
                                            else 'mapping'))
    if kind is list:
        spec[key] = current + items
    else:
        spec[key] = dict(current, **items)
