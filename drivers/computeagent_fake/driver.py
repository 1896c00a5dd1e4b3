"""An in-memory virt driver: the whole API without a hypervisor.

It is a real entry point (``virt_driver = fake``) so the service, the
RPC API and the command line can be used and tested on any machine. It
keeps its "guests" in memory, writes a console log the way virtlogd
would, and enforces the same rules a real hypervisor would (a paused
guest cannot be paused again, an unknown target cannot be detached), so
tests against it mean something.

Like a real guest, a fake one may keep a disk it is asked to release
(:meth:`FakeDriver.hold_detached_disks`, as a guest without hot-unplug
support): detach_disk then reports it still held, and the disk goes
when the guest stops, as the libvirt driver's definition has lost it.

A fake guest migrates live between the fake hypervisors of agents in
one process (unit tests), found by host name; across processes there is
no hypervisor to reach, and the migration fails as an unreachable
destination would.
"""

import dataclasses
import os
import shutil
import threading
import weakref

from oslo_log import log as logging

from computeagent import exception
from computeagent.objects import console as console_obj
from computeagent.objects import record as record_obj
from computeagent.virt import bootorder
from computeagent.virt import consolelog
from computeagent.virt import diskmodes
from computeagent.virt import diskspace
from computeagent.virt import driver
from computeagent.virt import layout
from computeagent.virt import macs
from computeagent.virt import power

LOG = logging.getLogger(__name__)

# What the fake host offers; generous so tests are not limited by it.
FAKE_VCPUS = 64
FAKE_MEMORY_MB = 256 * 1024
# The fake host's instances path takes O_DIRECT, and its "hypervisor"
# does no Linux native AIO of its own accord.
FAKE_DIRECT_IO = True
FAKE_NATIVE_AIO = False

# host name -> the FakeDriver serving it, in this process: where a live
# migration finds its destination.
_HYPERVISORS = weakref.WeakValueDictionary()


def boot_order(spec):
    """The bootable devices of a spec, first to boot first.

    :returns: a list of disk targets and nic MACs
    """
    indexes = bootorder.boot_indexes(spec.boot_order, spec.disks,
                                     spec.nics)
    devices = [(index, d.target) for d, index in zip(spec.disks,
                                                     indexes.disks)
               if index is not None]
    devices += [(index, n.mac) for n, index in zip(spec.nics, indexes.nics)
                if index is not None]
    return [name for _index, name in sorted(devices)]


class FakeDriver(driver.ComputeDriver):
    """A hypervisor that lives in a dict."""

    name = 'fake'

    def __init__(self, conf):
        super().__init__(conf)
        self._lock = threading.Lock()
        self._guests = {}
        self._host = conf.host

    # -- helpers ----------------------------------------------------------

    def _instance_dir(self, uuid):
        return layout.instance_dir(self.conf.instances_path, uuid)

    def _console_path(self, uuid):
        return layout.console_log(self._instance_dir(uuid), 0)

    def _ports(self, spec, kind):
        """The ports of a kind as the libvirt driver describes them."""
        directory = self._instance_dir(spec.uuid)
        ports = []
        specs = (spec.serial_ports if kind == layout.SERIAL
                 else spec.parallel_ports)
        for index, port in enumerate(specs):
            files = layout.port_files(directory, kind, index, port)
            ports.append(record_obj.SerialPortRecord(
                index=index, type=port.type, path=files['path'],
                log_file=files['log_file'], host=port.host, port=port.port,
                bind_host=port.bind_host, bind_port=port.bind_port))
        return tuple(ports)

    def _guest(self, uuid):
        guest = self._guests.get(uuid)
        if guest is None:
            raise exception.DriverError(
                reason='domain %s is not defined' % uuid)
        return guest

    def _log(self, uuid, text):
        with open(self._console_path(uuid), 'a') as f:
            f.write(text + '\n')

    def _set_state(self, instance, state, allowed, action):
        with self._lock:
            guest = self._guest(instance.uuid)
            if guest['state'] not in allowed:
                # A real hypervisor refuses such requests too; the manager
                # checks states first, so reaching this is a race.
                raise exception.DriverError(
                    reason='cannot %s a guest that is %s'
                    % (action, guest['state']))
            guest['state'] = state
        self.emit_event(instance.uuid, state)

    @staticmethod
    def _disk_path(directory, index, disk):
        if disk.source.host_device is not None:
            return disk.source.host_device  # the host's drive itself
        if disk.is_cdrom:
            return None
        return layout.disk_file(directory, index, disk.target)

    def _disk_record(self, directory, index, disk, boot_index):
        path = self._disk_path(directory, index, disk)
        if disk.is_cdrom and disk.image is not None:
            path = 'fake://image/%s' % disk.image
        cache = disk.cache or diskmodes.default_cache(FAKE_DIRECT_IO)
        return record_obj.DiskRecord(
            target=disk.target, device=disk.device, bus=disk.bus, path=path,
            format=disk.format, boot_index=boot_index, cache=cache,
            aio=disk.aio or diskmodes.default_aio(cache,
                                                  native=FAKE_NATIVE_AIO),
            snapshot=disk.snapshot)

    # -- the contract ------------------------------------------------------

    def render(self, spec):
        directory = self._instance_dir(spec.uuid)
        disks = []
        for index, disk in enumerate(spec.disks):
            disks.append({'target': disk.target,
                          'path': self._disk_path(directory, index, disk),
                          'format': disk.format,
                          'backing': None})
        xml = ("<domain type='fake'><name>%s</name><uuid>%s</uuid>"
               "</domain>" % (spec.uuid, spec.uuid))
        return {'domain_xml': xml, 'disks': disks}

    def spawn(self, spec, timings=None):
        uuid = spec.uuid
        directory = self._instance_dir(uuid)
        os.makedirs(directory, exist_ok=True)
        # As the libvirt driver does: letters become per-device indexes.
        boot_indexes = bootorder.boot_indexes(spec.boot_order, spec.disks,
                                              spec.nics)
        disks = [self._disk_record(directory, index, disk, boot_index)
                 for index, (disk, boot_index) in enumerate(
                     zip(spec.disks, boot_indexes.disks))]
        taken = {nic.mac for nic in spec.nics if nic.mac}
        nics = []
        for nic in spec.nics:
            mac = nic.mac or macs.generate(taken)
            taken.add(mac)
            nics.append(dataclasses.replace(nic, mac=mac))
        with self._lock:
            self._guests[uuid] = {'state': power.RUNNING, 'spec': spec,
                                  'disks': disks, 'holds': False,
                                  'unplugging': set()}
        serial_ports = self._ports(spec, layout.SERIAL)
        console = serial_ports[0].log_file if serial_ports else None
        if console:
            self._log(uuid, 'fake guest %s booting' % uuid)
        if timings is not None:
            timings['spawn'] = 0.0
        return driver.Placement(disks=tuple(disks),
                                serial_ports=serial_ports,
                                parallel_ports=self._ports(
                                    spec, layout.PARALLEL),
                                console_log=console,
                                nics=tuple(nics))

    def init_host(self, host):
        super().init_host(host)
        self._host = host
        _HYPERVISORS[host] = self

    def live_migration_target(self):
        return {'hypervisor': 'fake', 'host': self._host}

    def live_migrate(self, instance, target):
        destination = _HYPERVISORS.get(target.get('host'))
        if destination is None or destination is self:
            raise exception.DriverError(
                reason='no fake hypervisor of host %s in this process'
                % target.get('host'))
        with self._lock:
            guest = self._guest(instance.uuid)
            if guest['state'] not in (power.RUNNING, power.PAUSED):
                raise exception.DriverError(
                    reason='cannot migrate a guest that is %s'
                    % guest['state'])
            del self._guests[instance.uuid]
        with destination._lock:
            destination._guests[instance.uuid] = guest
        if instance.record.console_log:
            self._log(instance.uuid, 'fake guest %s migrated to %s'
                      % (instance.uuid, target['host']))

    def add_foreign_guest(self, uuid, state=power.RUNNING):
        """A guest that someone other than this driver made.

        Like a libvirt domain without the agent's mark: destroy refuses
        it and cleanup_orphan leaves it alone.
        """
        with self._lock:
            self._guests[uuid] = {'state': state, 'foreign': True}

    def destroy(self, instance):
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is not None and guest.get('foreign'):
                raise exception.DriverError(
                    reason='the guest with uuid %s was not made by this '
                    'driver; it is left alone' % instance.uuid)
            self._guests.pop(instance.uuid, None)

    def cleanup_orphan(self, uuid, ignore=()):
        with self._lock:
            guest = self._guests.get(uuid)
            if guest is not None and guest.get('foreign'):
                return ('the fake hypervisor has a guest of that uuid that '
                        'this driver did not make')
            self._guests.pop(uuid, None)
        directory = self._instance_dir(uuid)
        reason = layout.why_keep(directory, ignore)
        if reason:
            return reason
        shutil.rmtree(directory, ignore_errors=True)
        return None

    def get_power_state(self, instance):
        with self._lock:
            guest = self._guests.get(instance.uuid)
            return guest['state'] if guest else power.NOSTATE

    def list_power_states(self):
        with self._lock:
            return {uuid: g['state'] for uuid, g in self._guests.items()}

    def reboot(self, instance, hard=False):
        allowed = (power.RUNNING,) if not hard else (
            power.RUNNING, power.PAUSED, power.SHUTOFF, power.CRASHED)
        self._set_state(instance, power.RUNNING, allowed, 'reboot')
        if instance.record.console_log:
            self._log(instance.uuid, 'fake guest %s rebooting (%s)'
                      % (instance.uuid, 'hard' if hard else 'soft'))

    def power_off(self, instance, timeout=60):
        self._set_state(instance, power.SHUTOFF,
                        (power.RUNNING, power.PAUSED, power.CRASHED),
                        'stop')
        with self._lock:
            guest = self._guest(instance.uuid)
            # The next start has only what the definition kept.
            guest['disks'] = [d for d in guest['disks']
                              if d.target not in guest['unplugging']]
            guest['unplugging'].clear()

    def power_on(self, instance):
        self._set_state(instance, power.RUNNING,
                        (power.SHUTOFF, power.CRASHED), 'start')
        if instance.record.console_log:
            self._log(instance.uuid, 'fake guest %s booting'
                      % instance.uuid)

    def pause(self, instance):
        self._set_state(instance, power.PAUSED, (power.RUNNING,), 'pause')

    def unpause(self, instance):
        self._set_state(instance, power.RUNNING, (power.PAUSED,),
                        'unpause')

    def suspend(self, instance):
        self._set_state(instance, power.SUSPENDED,
                        (power.RUNNING, power.PAUSED), 'suspend')

    def resume(self, instance):
        self._set_state(instance, power.RUNNING, (power.SUSPENDED,),
                        'resume')

    def get_serial_console(self, instance, port):
        """The port's host end as the record names it.

        A fake guest has no QEMU, so nothing listens there: the proxy's
        connection fails as it would for a guest that just stopped.
        """
        with self._lock:
            self._guest(instance.uuid)
        serial = {p.index: p for p in instance.record.serial_ports}[port]
        if serial.type == 'unix':
            return console_obj.ConsoleTarget(kind='unix', path=serial.path)
        if serial.type == 'tcp':
            return console_obj.ConsoleTarget(kind='tcp', host=serial.host,
                                             port=serial.port)
        raise exception.DriverError(
            reason='the fake driver makes no host pty (serial port %d)'
            % port)

    def get_console_output(self, instance, tail_lines=None,
                           max_bytes=consolelog.DEFAULT_MAX_BYTES):
        path = instance.record.console_log or self._console_path(
            instance.uuid)
        return consolelog.read_tail(path, tail_lines, max_bytes)

    def attach_disk(self, instance, disk):
        directory = self._instance_dir(instance.uuid)
        with self._lock:
            guest = self._guest(instance.uuid)
            if disk.is_floppy and guest['state'] != power.SHUTOFF:
                # QEMU's floppy controller has no hot-plug either.
                raise exception.InvalidState(
                    action='attach a floppy to', uuid=instance.uuid,
                    state=guest['state'])
            new = self._disk_record(directory, len(guest['disks']), disk,
                                    disk.boot_index)
            guest['disks'].append(new)
        return new

    def hold_detached_disks(self, uuid, hold=True):
        """Make a guest keep (or, with False, release) disks on detach.

        For tests: a guest that holds them is one without hot-unplug
        support; one released later lets a detach_disk retry finish.
        """
        with self._lock:
            self._guest(uuid)['holds'] = hold

    def detach_disk(self, instance, target):
        with self._lock:
            guest = self._guest(instance.uuid)
            present = any(d.target == target for d in guest['disks'])
            if (present and guest['holds']
                    and guest['state'] in (power.RUNNING, power.PAUSED)):
                guest['unplugging'].add(target)
                return False
            guest['disks'] = [d for d in guest['disks']
                              if d.target != target]
            guest['unplugging'].discard(target)
            return True

    def change_media(self, instance, target, image=None):
        with self._lock:
            guest = self._guest(instance.uuid)
            for index, disk in enumerate(guest['disks']):
                if disk.target == target:
                    disk = guest['disks'][index] = dataclasses.replace(
                        disk, path=('fake://image/%s' % image
                                    if image is not None else None))
                    return disk
        raise exception.DriverError(reason='no disk at %s' % target)

    def commit_disk(self, instance, target):
        with self._lock:
            self._guest(instance.uuid)

    def set_boot_order(self, instance):
        with self._lock:
            guest = self._guest(instance.uuid)
            # What its next boot would use, as a definition keeps it.
            guest['boot_order'] = boot_order(instance.spec)

    def boot_order(self, uuid):
        """For tests: the devices the guest's next boot tries, in order.

        :returns: a list of disk targets and nic MACs; None if
            set_boot_order was never asked
        """
        with self._lock:
            return self._guest(uuid).get('boot_order')

    def get_host_resources(self):
        resources = {'hypervisor': 'fake',
                     'vcpus': FAKE_VCPUS,
                     'memory_mb': FAKE_MEMORY_MB}
        resources.update(diskspace.host_disk(self.conf.instances_path))
        return resources
