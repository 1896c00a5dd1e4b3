"""Helpers for the libvirt driver tests: normalized specs, XML equality."""

from xml.etree import ElementTree

from computeagent.objects import spec as spec_obj
from computeagent_libvirt.storage import instance as storage_mod

UUID = '0b7f1e6c-2f4e-4c4a-9d55-3a1f2c6d8e90'


def canonical(xml):
    """C14N of an XML string: attribute order and indentation ignored."""
    return ElementTree.canonicalize(xml_data=xml, strip_text=True)


def make_disk(**kw):
    """A normalized DiskSpec with overrides.

    ``source`` and ``iotune`` are given as a request gives them.
    """
    disk = {'source': {'image': 'cirros'}, 'device': 'disk',
            'bus': 'virtio', 'target': 'vda', 'format': 'qcow2',
            'size_mb': None, 'boot_index': None, 'cache': None,
            'aio': None, 'iothread': False, 'discard': 'ignore',
            'iotune': None, 'snapshot': False, 'readonly': False,
            'serial': None}
    disk.update(kw)
    return spec_obj.DiskSpec.from_dict(disk)


def make_cdrom(**kw):
    values = {'device': 'cdrom', 'bus': 'sata', 'target': 'sda',
              'format': 'raw', 'readonly': True}
    values.update(kw)
    return make_disk(**values)


def make_floppy(**kw):
    values = {'device': 'floppy', 'bus': 'fdc', 'target': 'fda',
              'format': 'raw'}
    values.update(kw)
    return make_disk(**values)


def make_serial(kind='file', **kw):
    serial = {'type': kind, 'log': False, 'host': None, 'port': None}
    if kind in ('tcp', 'udp'):
        serial['host'] = '127.0.0.1'
    if kind == 'udp':
        # The schema's default beside a loopback remote.
        serial['bind_host'] = kw.get('host', '127.0.0.1')
    serial.update(kw)
    return spec_obj.SerialPortSpec.from_dict(serial)


def make_nic(kind='user', **kw):
    nic = {'type': kind, 'network': None, 'bridge': None,
           'model': 'virtio', 'mac': None, 'boot_index': None}
    nic.update(kw)
    return spec_obj.NicSpec.from_dict(nic)


def make_spec(**kw):
    """A normalized InstanceSpec with one virtio disk, with overrides.

    ``disks``, ``serial_ports``, ``parallel_ports`` and ``nics`` are
    lists of the objects the helpers above make; ``graphics`` and
    ``metadata`` dicts.
    """
    graphics = kw.pop('graphics', None)
    return spec_obj.InstanceSpec(**dict(
        {'uuid': UUID, 'name': UUID, 'vcpus': 1, 'memory_mb': 128,
         'boot_menu': False, 'video': 'none',
         'graphics': (spec_obj.GraphicsSpec.from_dict(graphics)
                      if graphics is not None else None),
         'metadata': spec_obj.pairs(kw.pop('metadata', {})),
         'disks': tuple(kw.pop('disks', [make_disk(boot_index=1)])),
         'serial_ports': tuple(kw.pop('serial_ports', [make_serial()])),
         'parallel_ports': tuple(kw.pop('parallel_ports', [])),
         'nics': tuple(kw.pop('nics', []))}, **kw))


def plan_for(spec, base='/srv/instances'):
    """A disk plan as the storage layer would give it for ``spec``.

    qcow2 disks are overlays on a raw base image; raw disks stand alone;
    blank cdroms have no path.
    """
    plan = {}
    for index, disk in enumerate(spec.disks):
        name = 'disk' if index == 0 else 'disk.%s' % disk.target
        path = '%s/%s/%s' % (base, spec.uuid, name)
        backing = []
        source_type = 'file'
        if disk.source.host_device is not None:
            path, fmt, source_type = disk.source.host_device, 'raw', 'block'
        elif disk.source.blank and disk.is_cdrom:
            path, fmt = None, 'raw'
        elif disk.format == 'qcow2':
            fmt = 'qcow2'
            backing = [('%s/_base/%s' % (base, disk.target), 'raw')]
        else:
            fmt = 'raw'
        plan[disk.target] = storage_mod.PlannedDisk(
            target=disk.target, device=disk.device, path=path,
            format=fmt, backing=backing, snapshot=disk.snapshot,
            source_type=source_type)
    return plan


def counter_bytes(start=1):
    """A deterministic stand-in for os.urandom(3) in MAC assignment."""
    state = {'next': start}

    def rand_bytes(n):
        value = state['next']
        state['next'] += 1
        return value.to_bytes(n, 'big')
    return rand_bytes


#: seconds a test waits for a lifecycle event: the event thread delivers
#: asynchronously; this only bounds a wait a broken one would never end
EVENT_WAIT = 30


class EventRecording(object):
    """A test-case mixin recording ``(uuid, state)`` power events.

    Set ``self.events = []`` and ``self.event_seen = threading.Event()``
    in setUp and pass ``self._on_event`` as the callback.
    """

    def _on_event(self, uuid, state):
        self.events.append((uuid, state))
        self.event_seen.set()

    def wait_for_event(self, expected):
        while expected not in self.events:
            self.assertTrue(self.event_seen.wait(EVENT_WAIT),
                            'no event %s in %s' % (expected, self.events))
            self.event_seen.clear()
