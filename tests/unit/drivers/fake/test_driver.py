"""Tests of the fake virt driver (computeagent_fake.driver).

The fake stands in for a hypervisor in every service-layer test, so it
must refuse what a hypervisor refuses.
"""

import dataclasses
import os

from computeagent import exception
from computeagent.objects import record as record_obj
from computeagent.objects import stored as stored_obj
from computeagent.schema import instance
from computeagent.virt import driver as virt_driver
from computeagent.virt import power
from computeagent_fake import driver as fake_driver
from tests import base

UUID = '11111111-2222-4333-8444-555555555555'


def stored(spec=None, **fields):
    """A StoredInstance of UUID, its record running with ``fields``."""
    record = dict(uuid=UUID, name=UUID, host='h', state='running', vcpus=1,
                  memory_mb=128, disks=(), serial_ports=(), console_log=None,
                  created_at='2026-01-01T00:00:00.000000Z', metadata=())
    record.update(fields)
    return stored_obj.StoredInstance(
        record=record_obj.InstanceRecord(**record), spec=spec)


class FakeDriverTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        os.makedirs(self.conf.instances_path)
        self.driver = fake_driver.FakeDriver(self.conf)
        self.events = []
        self.driver.register_event_listener(
            lambda uuid, state: self.events.append((uuid, state)))

    def spec(self, **extra):
        request = {'uuid': UUID, 'disks': [
            {'source': {'image': 'a'}},
            {'source': {'blank': True}, 'size_mb': 8},
            {'source': {'image': 'b.iso'}, 'device': 'cdrom'}]}
        request.update(extra)
        return instance.validate_spec(request, self.conf)

    def spawn(self, **extra):
        """Spawn; :returns: the StoredInstance the manager would keep"""
        spec = self.spec(**extra)
        placement = self.driver.spawn(spec)
        return stored(spec=spec, disks=placement.disks,
                      serial_ports=placement.serial_ports,
                      console_log=placement.console_log)

    def console(self):
        with open(os.path.join(self.conf.instances_path, UUID,
                               'console.log')) as f:
            return f.read()


class TestSpawn(FakeDriverTestCase):

    def test_spawn(self):
        timings = {}
        placement = self.driver.spawn(self.spec(), timings)
        self.assertIsInstance(placement, virt_driver.Placement)
        directory = os.path.join(self.conf.instances_path, UUID)
        self.assertEqual(
            [(os.path.join(directory, 'disk'), 'vda'),
             (os.path.join(directory, 'disk.vdb'), 'vdb'),
             ('fake://image/b.iso', 'sda')],
            [(d.path, d.target) for d in placement.disks])
        self.assertEqual(os.path.join(directory, 'console.log'),
                         placement.console_log)
        self.assertIn('fake guest %s booting' % UUID, self.console())
        self.assertEqual({UUID: 'running'},
                         self.driver.list_power_states())
        self.assertEqual({'spawn': 0.0}, timings)

    def test_macs_are_assigned_unless_given(self):
        placement = self.driver.spawn(self.spec(nics=[
            {}, {'mac': '52:54:00:AA:BB:CC'}]))
        macs = [n.mac for n in placement.nics]
        self.assertRegex(macs[0], r'^52:54:00(:[0-9a-f]{2}){3}$')
        self.assertEqual('52:54:00:aa:bb:cc', macs[1])

    def test_no_console_log_for_a_null_port(self):
        placement = self.driver.spawn(self.spec(
            serial_ports=[{'type': 'null'}]))
        self.assertIsNone(placement.console_log)

    def test_serial_ports(self):
        directory = os.path.join(self.conf.instances_path, UUID)
        placement = self.driver.spawn(self.spec(serial_ports=[
            {'type': 'pty', 'log': True}, {'type': 'unix'},
            {'type': 'tcp', 'port': 4000}, {'type': 'file'}]))
        unbound = {'bind_host': None, 'bind_port': None}
        self.assertEqual([dict(port, **unbound) for port in [
            {'index': 0, 'type': 'pty', 'path': None,
             'log_file': os.path.join(directory, 'console.log'),
             'host': None, 'port': None},
            {'index': 1, 'type': 'unix',
             'path': os.path.join(directory, 'serial1.sock'),
             'log_file': None, 'host': None, 'port': None},
            {'index': 2, 'type': 'tcp', 'path': None, 'log_file': None,
             'host': '127.0.0.1', 'port': 4000},
            {'index': 3, 'type': 'file',
             'path': os.path.join(directory, 'console.3.log'),
             'log_file': os.path.join(directory, 'console.3.log'),
             'host': None, 'port': None}]],
            [port.to_dict() for port in placement.serial_ports])
        self.assertEqual(os.path.join(directory, 'console.log'),
                         placement.console_log)

    def test_udp_pipe_and_parallel_ports(self):
        directory = os.path.join(self.conf.instances_path, UUID)
        placement = self.driver.spawn(self.spec(
            serial_ports=[{'type': 'udp', 'port': 5000},
                          {'type': 'pipe', 'log': True}],
            parallel_ports=[{'type': 'file'}, {'type': 'pipe'}]))
        unbound = {'host': None, 'port': None, 'bind_host': None,
                   'bind_port': None}
        self.assertEqual([
            {'index': 0, 'type': 'udp', 'path': None, 'log_file': None,
             'host': '127.0.0.1', 'port': 5000, 'bind_host': '127.0.0.1',
             'bind_port': None},
            dict(unbound, index=1, type='pipe',
                 path=os.path.join(directory, 'serial1'),
                 log_file=os.path.join(directory, 'console.1.log'))],
            [port.to_dict() for port in placement.serial_ports])
        self.assertEqual([
            dict(unbound, index=0, type='file',
                 path=os.path.join(directory, 'parallel0.log'),
                 log_file=os.path.join(directory, 'parallel0.log')),
            dict(unbound, index=1, type='pipe',
                 path=os.path.join(directory, 'parallel1'), log_file=None)],
            [port.to_dict() for port in placement.parallel_ports])
        self.assertIsNone(placement.console_log)

    def test_cache_and_aio(self):
        disks = [{'source': {'blank': True}, 'size_mb': 1, 'cache': cache,
                  'aio': aio}
                 for cache, aio in ((None, None), ('directsync', None),
                                    ('writeback', None), (None, 'native'),
                                    ('unsafe', 'io_uring'))]
        placement = self.driver.spawn(self.spec(disks=disks))
        # The fake host takes O_DIRECT but does no native AIO unasked.
        self.assertEqual(
            [('none', 'threads'), ('directsync', 'threads'),
             ('writeback', 'threads'), ('none', 'native'),
             ('unsafe', 'io_uring')],
            [(d.cache, d.aio) for d in placement.disks])

    def test_render_creates_nothing(self):
        plan = self.driver.render(self.spec())
        self.assertIn('<uuid>%s</uuid>' % UUID, plan['domain_xml'])
        self.assertEqual(['vda', 'vdb', 'sda'],
                         [d['target'] for d in plan['disks']])
        self.assertEqual([], os.listdir(self.conf.instances_path))
        self.assertEqual({}, self.driver.list_power_states())

    def test_destroy_is_idempotent(self):
        record = self.spawn()
        self.driver.destroy(record)
        self.driver.destroy(record)
        self.assertIs(power.NOSTATE,
                      self.driver.get_power_state(record))


class TestPower(FakeDriverTestCase):

    def test_transitions_emit_events(self):
        record = self.spawn()
        self.driver.pause(record)
        self.driver.unpause(record)
        self.driver.suspend(record)
        self.driver.resume(record)
        self.driver.power_off(record)
        self.driver.reboot(record, hard=True)
        self.driver.power_off(record)
        self.driver.power_on(record)
        self.driver.reboot(record)
        self.assertEqual(
            ['paused', 'running', 'suspended', 'running', 'shutoff',
             'running', 'shutoff', 'running', 'running'],
            [state for _u, state in self.events])
        self.assertEqual('running', self.driver.get_power_state(record))
        console = self.console()
        self.assertIn('rebooting (hard)', console)
        self.assertIn('rebooting (soft)', console)
        self.assertEqual(2, console.count('booting\n'))

    def test_refusals(self):
        record = self.spawn()
        for call, state in ((self.driver.unpause, 'running'),
                            (self.driver.resume, 'running'),
                            (self.driver.power_on, 'running')):
            error = self.assertRaises(exception.DriverError, call, record)
            self.assertIn('that is %s' % state, str(error))
        self.driver.power_off(record)
        for call in (self.driver.pause, self.driver.suspend,
                     self.driver.reboot, self.driver.power_off):
            self.assertRaises(exception.DriverError, call, record)
        self.assertEqual('shutoff', self.driver.get_power_state(record))
        self.assertEqual([(UUID, 'shutoff')], self.events)

    def test_a_guest_that_is_not_there(self):
        record = stored()
        for call in (self.driver.pause, self.driver.power_on,
                     lambda r: self.driver.commit_disk(r, 'vda'),
                     self.driver.set_boot_order,
                     lambda r: self.driver.detach_disk(r, 'vda'),
                     lambda r: self.driver.attach_disk(r, {})):
            error = self.assertRaises(exception.DriverError, call, record)
            self.assertIn('is not defined', str(error))
        self.assertIs(power.NOSTATE,
                      self.driver.get_power_state(record))


class TestDisks(FakeDriverTestCase):

    def test_attach_detach_and_media(self):
        record = self.spawn()
        disk = instance.validate_disk({'source': {'blank': True},
                                       'size_mb': 1},
                                      record.spec.disks, self.conf)
        new = self.driver.attach_disk(record, disk)
        self.assertEqual(('vdc', os.path.join(self.conf.instances_path,
                                              UUID, 'disk.vdc')),
                         (new.target, new.path))
        self.driver.detach_disk(record, 'vdb')
        self.assertEqual('fake://image/c.iso', self.driver.change_media(
            record, 'sda', 'c.iso').path)
        self.assertIsNone(self.driver.change_media(record, 'sda').path)
        self.assertRaises(exception.DriverError, self.driver.change_media,
                          record, 'vdb', 'x.iso')
        self.driver.commit_disk(record, 'vda')

    def test_boot_order(self):
        record = self.spawn()
        self.assertIsNone(self.driver.boot_order(UUID))
        spec = record.spec
        spec = dataclasses.replace(spec, disks=tuple(
            dataclasses.replace(d, boot_index=(2, 1, None)[i])
            for i, d in enumerate(spec.disks)))
        self.driver.set_boot_order(dataclasses.replace(record, spec=spec))
        self.assertEqual(['vdb', 'vda'], self.driver.boot_order(UUID))

    def test_a_guest_that_holds_a_detached_disk(self):
        record = self.spawn()
        guest = self.driver._guests[UUID]
        self.driver.hold_detached_disks(UUID)
        self.assertFalse(self.driver.detach_disk(record, 'vdb'))
        self.assertFalse(self.driver.detach_disk(record, 'vdb'))
        self.assertEqual(['vda', 'vdb', 'sda'],
                         [d.target for d in guest['disks']])
        # Released later: a retry finishes.
        self.driver.hold_detached_disks(UUID, False)
        self.assertTrue(self.driver.detach_disk(record, 'vdb'))
        self.assertEqual(['vda', 'sda'], [d.target for d in guest['disks']])

    def test_a_held_disk_goes_when_the_guest_stops(self):
        record = self.spawn()
        guest = self.driver._guests[UUID]
        self.driver.hold_detached_disks(UUID)
        self.assertFalse(self.driver.detach_disk(record, 'vdb'))
        self.driver.power_off(record)
        self.assertEqual(['vda', 'sda'], [d.target for d in guest['disks']])
        self.assertTrue(self.driver.detach_disk(record, 'vdb'))
        # A stopped guest has nothing to release.
        self.assertTrue(self.driver.detach_disk(record, 'sda'))
        self.assertEqual(['vda'], [d.target for d in guest['disks']])

    def test_console_output(self):
        record = self.spawn()
        result = self.driver.get_console_output(record, tail_lines=1)
        self.assertEqual('fake guest %s booting\n' % UUID,
                         result['output'])

    def test_host_resources(self):
        resources = self.driver.get_host_resources()
        self.assertEqual(('fake', fake_driver.FAKE_VCPUS,
                          fake_driver.FAKE_MEMORY_MB),
                         (resources['hypervisor'], resources['vcpus'],
                          resources['memory_mb']))
        stat = os.statvfs(self.conf.instances_path)
        self.assertEqual(stat.f_blocks * stat.f_frsize,
                         resources['disk_bytes'])
        self.assertLessEqual(resources['disk_bytes_free'],
                             resources['disk_bytes'])
