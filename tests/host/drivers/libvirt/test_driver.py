"""LibvirtDriver on libvirt's test driver: set-up, render, spawn, destroy,
power states, console and host resources."""

import os
import subprocess
from xml.etree import ElementTree

import fixtures
import libvirt

from computeagent import exception
from computeagent.objects import record as record_obj
from computeagent.objects import stored as stored_obj
from computeagent.virt import driver as virt_driver
from computeagent.virt import power
from computeagent_images import directory
from computeagent_libvirt import domain
from computeagent_libvirt import driver
from tests import base
from tests.host.drivers.libvirt import driver_base
from tests.unit.drivers.libvirt import testdriver
from tests.unit.drivers.libvirt import utils

UUID = utils.UUID
OTHER = '5d0c7a4e-8d4b-4a8e-9a57-1f3e1c2b7a60'


class TestInitHost(driver_base.DriverTestCase):

    def test_bad_cachemodes_fail_at_start(self):
        self.flags(cachemodes=['file=bogus'], group='disk')
        fresh = self.new_driver()
        error = self.assertRaises(exception.DriverError, fresh.init_host,
                                  'test-host')
        self.assertIn('[disk] cachemodes', str(error))
        self.assertIn('bogus', str(error))

    def test_creates_instances_path_and_logs_the_cache_mode(self):
        logger = self.useFixture(fixtures.FakeLogger())
        self.flags(instances_path=os.path.join(self.tmp, 'new', 'path'))
        fresh = self.new_driver()
        fresh.init_host('test-host')
        self.assertTrue(os.path.isdir(self.conf.instances_path))
        self.assertEqual([], os.listdir(self.conf.instances_path))
        mode = 'none' if fresh.cache_inputs.direct_io() else 'writethrough'
        message = 'file disks without a cache mode get %s' % mode
        self.assertIn(message, logger.output)
        fresh.cache_inputs.direct_io()
        self.assertEqual(1, logger.output.count(message))

    def test_unreachable_libvirt(self):
        self.flags(connection_uri='test:///no/such/node.xml',
                   group='libvirt')
        fresh = self.new_driver()
        self.assertRaises(exception.DriverError, fresh.init_host,
                          'test-host')


class TestRender(driver_base.DriverTestCase):

    def test_creates_nothing(self):
        spec = self.spec(disks=[
            utils.make_disk(source={'image': 'boot.raw'}, boot_index=1),
            utils.make_disk(source={'blank': True}, size_mb=1,
                            target='vdb', snapshot=True)])
        before = sorted(os.listdir(self.conf.instances_path))
        result = self.driver.render(spec)
        self.assertEqual(before, sorted(os.listdir(self.conf.instances_path)))
        self.assertEqual([], self.domain_uuids())
        vda, vdb = result['disks']
        disk = os.path.join(self.instance_dir(), 'disk')
        self.assertEqual({'target': 'vda', 'path': disk, 'format': 'qcow2'},
                         {k: vda[k] for k in ('target', 'path', 'format')})
        # Not fetched: the base's path in the cache, as it will be.
        self.assertTrue(vda['backing'].startswith(
            os.path.join(self.conf.instances_path, '_base') + os.sep))
        self.assertEqual(
            {'target': 'vdb', 'format': 'qcow2',
             'path': os.path.join(self.instance_dir(), 'disk.vdb.snapshot'),
             'backing': os.path.join(self.instance_dir(), 'disk.vdb')},
            vdb)
        self.assertEqual({'vda': disk, 'vdb': vdb['path']},
                         self.disk_sources(result['domain_xml']))

    def test_domain_xml_is_valid(self):
        result = self.driver.render(self.spec())
        other = self.useFixture(testdriver.TestDriver())
        self.assertEqual(UUID, other.define(result['domain_xml']).UUIDString())

    def test_bad_spec(self):
        spec = self.spec(disks=[utils.make_disk(
            source={'image': 'boot.raw'}, cache='writeback', aio='native')])
        self.assertRaises(exception.InvalidSpec, self.driver.render, spec)


class TestPrepare(driver_base.DriverTestCase):

    def test_fetches_the_images_and_makes_nothing_of_the_instance(self):
        spec = self.spec(disks=[
            utils.make_disk(source={'image': 'boot.raw'}, boot_index=1),
            utils.make_disk(source={'blank': True}, size_mb=1,
                            target='vdb')])
        timings = {}
        self.driver.prepare(spec, timings)
        self.assertEqual({'images'}, set(timings))
        base = os.path.join(self.conf.instances_path, '_base')
        self.assertEqual(1, len([name for name in os.listdir(base)
                                 if name.endswith('.json')]))
        self.assertFalse(os.path.exists(self.instance_dir()))
        self.assertEqual([], self.domain_uuids())
        # The spawn after it finds the base in the cache.
        self.driver.spawn(spec)
        self.assertTrue(self.lookup().isActive())
        self.assertEqual(1, len([name for name in os.listdir(base)
                                 if name.endswith('.json')]))

    def test_an_unsafe_image_is_refused(self):
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b',
                        self.image('boot.raw'), '-F', 'raw',
                        self.image('evil.qcow2')], check=True)
        spec = self.spec(disks=[
            utils.make_disk(source={'image': 'evil.qcow2'})])
        self.assertRaises(exception.ImageUnsafe, self.driver.prepare, spec)
        self.assertFalse(os.path.exists(self.instance_dir()))


class TestSpawn(driver_base.DriverTestCase):

    def test_defines_and_starts(self):
        spec = self.spec(
            disks=[utils.make_disk(source={'image': 'boot.raw'},
                                   boot_index=1),
                   utils.make_disk(source={'image': 'data.qcow2'},
                                   target='vdb', format='raw'),
                   utils.make_disk(source={'blank': True}, size_mb=2,
                                   target='vdc', snapshot=True)],
            nics=[utils.make_nic()])
        timings = {}
        placement = self.driver.spawn(spec, timings)

        dom = self.lookup()
        self.assertTrue(dom.isActive())
        self.assertTrue(dom.isPersistent())
        self.assertEqual('instance-' + UUID, dom.name())
        directory = self.instance_dir()
        overlay = os.path.join(directory, 'disk.vdc.snapshot')
        expected = {'vda': os.path.join(directory, 'disk'),
                    'vdb': os.path.join(directory, 'disk.vdb'),
                    'vdc': overlay}
        self.assertEqual(expected, self.disk_sources(dom.XMLDesc(0)))
        self.assertEqual(
            expected,
            self.disk_sources(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)))
        for path in expected.values():
            self.assertTrue(os.path.isfile(path), path)

        self.assertEqual({'disks', 'design', 'start'}, set(timings))
        vda, vdb, vdc = placement.disks
        self.assertEqual(('qcow2', False, 1),
                         (vda.format, vda.snapshot, vda.boot_index))
        self.assertEqual('raw', vdb.format)
        # The record shows the disk file, not its temporary overlay.
        self.assertEqual({'path': os.path.join(directory, 'disk.vdc'),
                          'format': 'qcow2', 'snapshot': True},
                         {k: getattr(vdc, k)
                          for k in ('path', 'format', 'snapshot')})
        console = os.path.join(directory, 'console.log')
        self.assertEqual(console, placement.console_log)
        self.assertEqual(console, placement.serial_ports[0].log_file)
        self.assertRegex(placement.nics[0].mac,
                         r'^52:54:00(:[0-9a-f]{2}){3}$')
        self.assertIn(placement.nics[0].mac, dom.XMLDesc(0))

    def test_unsafe_image_leaves_nothing(self):
        # A qcow2 naming a backing file is refused by inspection.
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b',
                        self.image('boot.raw'), '-F', 'raw',
                        self.image('evil.qcow2')], check=True)
        spec = self.spec(disks=[
            utils.make_disk(source={'image': 'boot.raw'}, boot_index=1),
            utils.make_disk(source={'image': 'evil.qcow2'}, target='vdb')])
        os.makedirs(self.instance_dir())  # as the manager's record does
        self.assertRaises(exception.ImageUnsafe, self.driver.spawn, spec)
        self.assertFalse(os.path.exists(self.instance_dir()))
        self.assertEqual([], self.domain_uuids())

    def test_libvirt_refusal_leaves_nothing(self):
        # Another domain already has the name: libvirt refuses the define.
        xml = self.driver.render(self.spec(uuid=OTHER))['domain_xml']
        self.conn.defineXML(xml.replace(OTHER, UUID).replace(
            'instance-' + UUID, 'instance-' + OTHER))
        error = self.assertRaises(exception.DriverError, self.driver.spawn,
                                  self.spec(uuid=OTHER))
        self.assertIn('already exists', str(error))
        self.assertFalse(os.path.exists(self.instance_dir(OTHER)))
        # The other domain is not ours to remove.
        self.assertEqual([UUID], self.domain_uuids())

    def test_failure_after_start_removes_the_domain(self):
        # The test driver starts any domain, so a start failure is made
        # here: the domain really started, then the step failed.
        real_start = domain.Domain.start

        def start_then_fail(dom):
            real_start(dom)
            raise exception.DriverError(reason='refused for the test')
        self.useFixture(fixtures.MockPatchObject(domain.Domain, 'start',
                                                 start_then_fail))
        self.assertRaises(exception.DriverError, self.driver.spawn,
                          self.spec())
        self.assertEqual([], self.domain_uuids())
        self.assertFalse(os.path.exists(self.instance_dir()))

    def test_existing_domain_is_left_alone(self):
        record = self.spawn()
        first_id = self.lookup().ID()
        error = self.assertRaises(exception.DriverError, self.driver.spawn,
                                  record.spec)
        self.assertIn('already has a domain', str(error))
        self.assertEqual(first_id, self.lookup().ID())
        self.assertTrue(os.path.isfile(record.record.disks[0].path))

    def test_unexpected_errors_are_typed(self):
        self.flags(instances_path='/proc/no/such/dir')
        fresh = self.new_driver()
        self.assertRaises(exception.DriverError, fresh.spawn, self.spec())


class TestDestroy(driver_base.DriverTestCase):

    def test_removes_domain_and_files(self):
        record = self.spawn()
        self.driver.destroy(record)
        self.assertEqual([], self.domain_uuids())
        self.assertFalse(os.path.exists(self.instance_dir()))
        self.assertEqual(power.NOSTATE,
                         self.driver.get_power_state(record))

    def test_idempotent(self):
        record = self.spawn()
        self.driver.destroy(record)
        self.driver.destroy(record)
        self.driver.destroy(driver_base.instance_of(OTHER))

    def test_shut_off_and_suspended(self):
        record = self.spawn()
        self.driver.power_off(record)
        self.driver.destroy(record)
        self.assertEqual([], self.domain_uuids())
        record = self.spawn()
        self.driver.suspend(record)
        self.driver.destroy(record)
        self.assertEqual([], self.domain_uuids())

    def test_files_without_a_domain(self):
        os.makedirs(self.instance_dir())
        self.driver.destroy(driver_base.instance_of(UUID))
        self.assertFalse(os.path.exists(self.instance_dir()))


class TestStates(driver_base.DriverTestCase):

    def test_list_power_states(self):
        first = self.spawn()
        self.spawn(self.spec(uuid=OTHER))
        self.driver.pause(first)
        self.assertEqual({UUID: power.PAUSED,
                          OTHER: power.RUNNING},
                         self.driver.list_power_states())

    def test_get_power_state(self):
        record = self.spawn()
        self.assertEqual(power.RUNNING,
                         self.driver.get_power_state(record))
        self.assertEqual(power.NOSTATE, self.driver.get_power_state(
            driver_base.instance_of(OTHER)))

    def test_events_reach_the_listener(self):
        record = self.spawn()
        self.wait_for_event((UUID, power.RUNNING))
        self.driver.pause(record)
        self.wait_for_event((UUID, power.PAUSED))


class TestConsoleAndHost(driver_base.DriverTestCase):

    def test_console_across_rotated_files(self):
        record = self.spawn()
        path = record.record.console_log
        with open(path + '.0', 'w') as f:
            f.write('old line\n')
        with open(path, 'w') as f:
            f.write('BOOT\n')
        output = self.driver.get_console_output(record)
        self.assertEqual({'output': 'old line\nBOOT\n', 'truncated': False,
                          'size': 14}, output)
        output = self.driver.get_console_output(record, tail_lines=1)
        self.assertEqual('BOOT\n', output['output'])
        self.assertTrue(output['truncated'])

    def test_no_console_log(self):
        record = self.spawn(self.spec(
            serial_ports=[utils.make_serial('null')]))
        self.assertIsNone(record.record.console_log)
        self.assertEqual({'output': '', 'truncated': False, 'size': 0},
                         self.driver.get_console_output(record))

    def test_unreadable_console_is_driver_error(self):
        record = self.spawn()
        os.mkdir(record.record.console_log)
        self.assertRaises(exception.DriverError,
                          self.driver.get_console_output, record)

    def test_host_resources(self):
        resources = self.driver.get_host_resources()
        self.assertEqual(4, resources['vcpus'])
        self.assertEqual(8192, resources['memory_mb'])
        self.assertTrue(resources['hypervisor'].startswith('TEST '))
        stat = os.statvfs(self.conf.instances_path)
        self.assertEqual(stat.f_blocks * stat.f_frsize,
                         resources['disk_bytes'])
        self.assertLessEqual(resources['disk_bytes_free'],
                             resources['disk_bytes'])

    def test_render_xml_of_spawned_guest_matches(self):
        spec = self.spec()
        rendered = self.driver.render(spec)['domain_xml']
        self.spawn(spec)
        defined = self.lookup().XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        self.assertEqual(
            self.disk_sources(rendered), self.disk_sources(defined))
        self.assertEqual(
            ElementTree.fromstring(rendered).findtext('name'),
            ElementTree.fromstring(defined).findtext('name'))


class Unexpected(Exception):
    """An error of a layer below the driver that no one raises on purpose."""


class Broken(object):
    """A part of the driver whose every use fails unexpectedly."""

    def __init__(self, part):
        self.part = part

    def __getattr__(self, name):
        raise Unexpected('%s.%s' % (self.part, name))


class TestTypedErrors(base.TestCase):
    """Every method of the contract lets only the API's typed errors out."""

    #: the arguments each method of the contract is called with here
    INSTANCE = stored_obj.StoredInstance(
        record=record_obj.InstanceRecord(
            uuid=UUID, name=UUID, host='test-host', state='running',
            vcpus=1, memory_mb=128, disks=(), serial_ports=(),
            console_log='/c.log', created_at='', metadata=()),
        spec=utils.make_spec())
    CALLS = {
        'init_host': ('test-host',), 'cleanup_host': (),
        'render': (utils.make_spec(),), 'prepare': (utils.make_spec(),),
        'spawn': (utils.make_spec(),), 'destroy': (INSTANCE,),
        'cleanup_orphan': (UUID,), 'get_power_state': (INSTANCE,),
        'list_power_states': (),
        'reboot': (INSTANCE,), 'power_off': (INSTANCE,),
        'power_on': (INSTANCE,), 'pause': (INSTANCE,),
        'unpause': (INSTANCE,), 'suspend': (INSTANCE,),
        'resume': (INSTANCE,),
        'get_console_output': (INSTANCE,),
        'attach_disk': (INSTANCE, utils.make_disk(target='vdb')),
        'detach_disk': (INSTANCE, 'vdb'),
        'change_media': (INSTANCE, 'sda', 'cd.iso'),
        'commit_disk': (INSTANCE, 'vda'),
        'set_boot_order': (INSTANCE,),
        'get_serial_console': (INSTANCE, 0),
        'get_host_resources': (),
        'cleanup_image_cache': ([INSTANCE.record],),
        'disk_sizes_mb': (utils.make_spec(),),
        'live_migrate': (INSTANCE, {'uri': 'qemu+tls://b/system'}),
    }

    def test_the_calls_are_the_whole_contract(self):
        # The driver's own event plumbing is the base class's, and
        # live_migration_target reads the configuration alone.
        contract = {name for name, value in
                    vars(virt_driver.ComputeDriver).items()
                    if callable(value) and not name.startswith('_')}
        self.assertEqual(contract - {'register_event_listener',
                                     'emit_event',
                                     'register_resync_listener',
                                     'emit_resync',
                                     'live_migration_target'},
                         set(self.CALLS))

    def test_unexpected_errors_leave_as_driver_errors(self):
        self.useFixture(fixtures.MockPatchObject(
            driver, 'consolelog', Broken('consolelog')))
        for name, args in sorted(self.CALLS.items()):
            fresh = driver.LibvirtDriver(
                self.conf, directory.DirectoryImageSource(self.conf))
            for part in ('host', 'node', 'storage', 'cache_inputs',
                         'power', 'disks', 'images', 'waiter',
                         'migration', 'boot'):
                setattr(fresh, part, Broken(part))
            error = self.assertRaises(exception.DriverError,
                                      getattr(fresh, name), *args)
            self.assertIn('Unexpected: ', str(error), name)
