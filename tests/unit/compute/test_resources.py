"""Tests of admission and usage counting (computeagent.compute.resources)."""

import dataclasses
import threading
import uuid as uuid_mod

from oslo_utils import units
import testtools

from computeagent.compute import resources
from computeagent.compute import store as store_mod
from computeagent import exception
from computeagent.objects import record as record_obj
from computeagent.schema import instance
from computeagent_fake import driver as fake_driver
from tests import base

WAIT = 30
HOST = {'hypervisor': 'test', 'vcpus': 4, 'memory_mb': 4096,
        'disk_bytes': 10 * units.Gi, 'disk_bytes_free': 5 * units.Gi}


class SizedDriver(fake_driver.FakeDriver):
    """The fake driver on a host of known size that knows image sizes.

    ``image_mb`` maps image references to the virtual size (MiB) the
    driver reports for disks made from them; an image not in it is
    "not cached yet". ``asked`` counts the calls of disk_sizes_mb.
    """

    def __init__(self, conf):
        super().__init__(conf)
        self.host = dict(HOST)
        self.image_mb = {}
        self.asked = 0
        self.size_error = None

    def get_host_resources(self):
        return dict(self.host)

    def disk_sizes_mb(self, spec):
        self.asked += 1
        if self.size_error is not None:
            raise self.size_error
        return {d.target: self.image_mb[d.image]
                for d in spec.disks if d.image in self.image_mb}


def blank(size_mb, **extra):
    return dict({'source': {'blank': True}, 'size_mb': size_mb}, **extra)


def image(ref, **extra):
    return dict({'source': {'image': ref}}, **extra)


class ResourcesTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        # Round numbers: no reservation, no overcommit, unless a test
        # says otherwise.
        self.flags(reserved_host_memory_mb=0, ram_allocation_ratio=1.0,
                   reserved_host_disk_mb=0, disk_allocation_ratio=1.0,
                   cpu_allocation_ratio=1.0)
        self.driver = SizedDriver(self.conf)
        self.store = store_mod.InstanceStore(self.conf.instances_path)
        self.tracker = resources.ResourceTracker(self.conf, self.driver,
                                                 self.store)

    def spec(self, disks=None, memory_mb=64, vcpus=1):
        """A normalized spec (a fresh uuid)."""
        return instance.validate_spec(
            {'uuid': str(uuid_mod.uuid4()), 'memory_mb': memory_mb,
             'vcpus': vcpus, 'disks': disks or [blank(1)]}, self.conf)

    def save(self, spec, state='running'):
        """Store a record of ``spec``, as the manager does at create."""
        record = record_obj.InstanceRecord(
            uuid=spec.uuid, name=spec.name, host='test-host', state=state,
            vcpus=spec.vcpus, memory_mb=spec.memory_mb, disks=(),
            serial_ports=(), console_log=None,
            created_at='2026-01-01T00:00:00Z', metadata=(), error=None)
        self.store.save(record, spec=spec)
        return spec

    def admit(self, spec):
        """A claim for ``spec`` whose record is saved inside it."""
        with self.tracker.claim(spec):
            self.save(spec)
        return spec


class TestCapacity(ResourcesTestCase):

    def test_nova_formula(self):
        self.assertEqual(3072, resources.capacity(4096, 1024, 1.0))
        self.assertEqual(4608, resources.capacity(4096, 1024, 1.5))
        self.assertEqual(1536, resources.capacity(4096, 1024, 0.5))
        self.assertEqual(0, resources.capacity(512, 1024, 2.0))

    def test_limits_from_the_options(self):
        self.flags(reserved_host_memory_mb=1024, ram_allocation_ratio=1.5,
                   reserved_host_disk_mb=2048, disk_allocation_ratio=2.0,
                   cpu_allocation_ratio=16.0)
        self.assertEqual({'memory_mb': 4608, 'disk_mb': 16384,
                          'vcpus': 64},
                         self.tracker.limits(HOST))

    def test_disk_counts_to_the_mib_not_the_gib(self):
        host = dict(HOST, disk_bytes=64 * units.Mi + 512 * units.Ki)
        self.assertEqual(64, self.tracker.limits(host)['disk_mb'])
        # The ratio applies to the bytes: (64.5 - 16) * 1.5 = 72.75.
        self.flags(reserved_host_disk_mb=16, disk_allocation_ratio=1.5)
        self.assertEqual(72, self.tracker.limits(host)['disk_mb'])

    def test_no_cpu_ratio_no_vcpu_limit(self):
        self.flags(cpu_allocation_ratio=0)
        self.assertIsNone(self.tracker.limits(HOST)['vcpus'])

    def test_defaults_are_novas(self):
        for name in ('ram_allocation_ratio', 'disk_allocation_ratio',
                     'cpu_allocation_ratio', 'reserved_host_disk_mb'):
            self.config.conf.clear_override(name)
        self.assertEqual((1.0, 1.0, 16.0, 0),
                         (self.conf.ram_allocation_ratio,
                          self.conf.disk_allocation_ratio,
                          self.conf.cpu_allocation_ratio,
                          self.conf.reserved_host_disk_mb))


class TestMemory(ResourcesTestCase):

    def test_up_to_the_last_mib(self):
        self.admit(self.spec(memory_mb=4000))
        self.admit(self.spec(memory_mb=96))
        error = self.assertRaises(exception.InsufficientResources,
                                  self.admit, self.spec(memory_mb=16))
        self.assertIn('16 MiB of memory asked, 0 MiB of 4096 MiB free',
                      str(error))
        self.assertEqual(2, len(self.store.uuids()))

    def test_reserved_and_ratio(self):
        self.flags(reserved_host_memory_mb=2048, ram_allocation_ratio=1.5)
        # (4096 - 2048) * 1.5 = 3072
        self.assertRaises(exception.InsufficientResources, self.admit,
                          self.spec(memory_mb=3073))
        self.admit(self.spec(memory_mb=3072))

    def test_every_state_claims(self):
        for state in ('building', 'shutoff', 'suspended', 'error'):
            self.save(self.spec(memory_mb=1024), state=state)
        self.assertRaises(exception.InsufficientResources, self.admit,
                          self.spec(memory_mb=16))
        self.assertEqual(4096, self.tracker.usage()['memory_mb'])

    def test_a_deleted_record_frees_its_memory(self):
        first = self.admit(self.spec(memory_mb=4096))
        self.assertRaises(exception.InsufficientResources, self.admit,
                          self.spec(memory_mb=16))
        self.store.delete(first.uuid)
        self.admit(self.spec(memory_mb=4096))


class TestDisk(ResourcesTestCase):

    def test_size_mb_counts(self):
        self.admit(self.spec([blank(8000), blank(2000)]))
        error = self.assertRaises(exception.InsufficientResources,
                                  self.admit, self.spec([blank(241)]))
        self.assertIn('241 MiB of disk asked, 240 MiB of 10240 MiB free',
                      str(error))
        self.admit(self.spec([blank(240)]))
        self.assertEqual(10240, self.tracker.usage()['disk_mb'])

    def test_a_small_filesystem_is_counted_to_the_mib(self):
        # Whole GiB rounded down would have made it 0 MiB.
        self.driver.host['disk_bytes'] = 65 * units.Mi - 1
        error = self.assertRaises(exception.InsufficientResources,
                                  self.admit, self.spec([blank(65)]))
        self.assertIn('65 MiB of disk asked, 64 MiB of 64 MiB free',
                      str(error))
        self.admit(self.spec([blank(64)]))

    def test_reserved_and_ratio(self):
        self.flags(reserved_host_disk_mb=240, disk_allocation_ratio=3.0)
        # (10240 - 240) * 3 = 30000: overcommitting thin disks.
        self.admit(self.spec([blank(20000)]))
        self.assertRaises(exception.InsufficientResources, self.admit,
                          self.spec([blank(10001)]))
        self.admit(self.spec([blank(10000)]))

    def test_an_image_disk_counts_its_virtual_size(self):
        self.driver.image_mb = {'big.qcow2': 6000}
        spec = self.spec([image('big.qcow2'), blank(1)])
        self.assertEqual((6001, True), self.tracker.disk_mb(spec))
        self.admit(spec)
        self.assertRaises(exception.InsufficientResources, self.admit,
                          self.spec([image('big.qcow2')]))

    def test_size_mb_wins_over_the_image_size(self):
        self.driver.image_mb = {'small.raw': 1}
        spec = self.spec([image('small.raw', size_mb=500)])
        self.assertEqual((500, True), self.tracker.disk_mb(spec))

    def test_an_image_not_known_yet_counts_nothing(self):
        spec = self.spec([image('new.qcow2'), blank(3)])
        self.assertEqual((3, False), self.tracker.disk_mb(spec))

    def test_a_cdrom_counts_nothing(self):
        self.driver.image_mb = {'big.iso': 6000}
        spec = self.spec([blank(2), image('big.iso', device='cdrom'),
                          {'source': {'blank': True}, 'device': 'cdrom'}])
        self.assertEqual((2, True), self.tracker.disk_mb(spec))

    def test_driver_not_asked_when_sizes_are_given(self):
        self.tracker.disk_mb(self.spec([blank(2), blank(3)]))
        self.assertEqual(0, self.driver.asked)

    def test_an_error_from_the_driver_counts_nothing(self):
        self.driver.size_error = exception.ImageNotFound(image='x',
                                                         reason='gone')
        spec = self.spec([image('x'), blank(5)])
        self.assertEqual((5, False), self.tracker.disk_mb(spec))
        self.admit(spec)

    def test_a_known_record_is_not_asked_about_again(self):
        self.driver.image_mb = {'a.qcow2': 100}
        self.save(self.spec([image('a.qcow2')]))
        self.assertEqual(100, self.tracker.usage()['disk_mb'])
        asked = self.driver.asked
        self.assertEqual(100, self.tracker.usage()['disk_mb'])
        self.assertEqual(asked, self.driver.asked)

    def test_a_record_is_counted_again_once_its_image_is_known(self):
        # Admitted while its image was not cached; the fetch at spawn
        # makes the size known and from then on it counts.
        self.save(self.spec([image('late.qcow2')]))
        self.assertEqual(0, self.tracker.usage()['disk_mb'])
        self.driver.image_mb = {'late.qcow2': 700}
        self.assertEqual(700, self.tracker.usage()['disk_mb'])

    def test_attached_disks_change_the_count(self):
        self.driver.image_mb = {'a.qcow2': 100}
        spec = self.save(self.spec([image('a.qcow2')]))
        self.assertEqual(100, self.tracker.usage()['disk_mb'])
        spec = dataclasses.replace(spec, disks=spec.disks + (
            instance.validate_disk(blank(50), spec.disks, self.conf),))
        self.store.update(spec.uuid, spec=spec)
        self.assertEqual('vdb', spec.disks[1].target)
        self.assertEqual(150, self.tracker.usage()['disk_mb'])


class TestDiskClaims(ResourcesTestCase):
    """claim_disk: one more disk of an instance (attach_disk)."""

    def test_counted_once_from_the_claim_on(self):
        spec = self.admit(self.spec([blank(10)]))
        disk = instance.validate_disk(blank(50), spec.disks, self.conf)
        with self.tracker.claim_disk(spec.uuid, spec, disk):
            self.assertEqual(60, self.tracker.usage()['disk_mb'])
            self.store.update(spec.uuid, spec=dataclasses.replace(
                spec, disks=spec.disks + (disk,)))
            self.assertEqual(60, self.tracker.usage()['disk_mb'])
        self.assertEqual(60, self.tracker.usage()['disk_mb'])

    def test_a_failed_attach_gives_it_back(self):
        spec = self.admit(self.spec([blank(10)]))
        disk = instance.validate_disk(blank(50), spec.disks, self.conf)
        with testtools.ExpectedException(RuntimeError):
            with self.tracker.claim_disk(spec.uuid, spec, disk):
                raise RuntimeError('the driver failed')
        self.assertEqual(10, self.tracker.usage()['disk_mb'])

    def test_only_disk_is_checked(self):
        spec = self.admit(self.spec([blank(10)], memory_mb=4096, vcpus=4))
        disk = instance.validate_disk(blank(10230), spec.disks,
                                      self.conf)
        with self.tracker.claim_disk(spec.uuid, spec, disk):
            pass
        disk = instance.validate_disk(blank(10231), spec.disks,
                                      self.conf)
        error = self.assertRaises(exception.InsufficientResources,
                                  self.tracker.claim_disk(
                                      spec.uuid, spec, disk).__enter__)
        self.assertEqual('The host cannot fit disk vdb of instance %s: '
                         '10231 MiB of disk asked, 10230 MiB of 10240 MiB '
                         'free' % spec.uuid, str(error))

    def test_a_disk_of_no_size_is_not_checked(self):
        # The host is full, and even over-committed by a ratio lowered
        # since: a disk that takes nothing still fits.
        spec = self.admit(self.spec([blank(10240)]))
        self.flags(disk_allocation_ratio=0.5)
        cdrom = instance.validate_disk(image('x.iso', device='cdrom'),
                                       spec.disks, self.conf)
        with self.tracker.claim_disk(spec.uuid, spec, cdrom):
            pass


class TestVcpus(ResourcesTestCase):

    def test_vcpus_checked_with_a_ratio(self):
        self.flags(cpu_allocation_ratio=2.0)
        self.admit(self.spec(vcpus=6))
        error = self.assertRaises(exception.InsufficientResources,
                                  self.admit, self.spec(vcpus=3))
        self.assertIn('3 vCPUs asked, 2 of 8 free', str(error))
        self.admit(self.spec(vcpus=2))

    def test_ratio_zero_turns_the_check_off(self):
        self.flags(cpu_allocation_ratio=0)
        self.admit(self.spec(vcpus=64))
        self.admit(self.spec(vcpus=64))
        self.assertEqual(128, self.tracker.usage()['vcpus'])

    def test_every_shortage_is_named(self):
        error = self.assertRaises(
            exception.InsufficientResources, self.admit,
            self.spec([blank(20000)], memory_mb=5000, vcpus=5))
        message = str(error)
        for what in ('of memory asked', 'of disk asked', 'vCPUs asked'):
            self.assertIn(what, message)


class ObservedLock(object):
    """A lock that says who holds it and when a thread waits for it."""

    def __init__(self, cond, events):
        self._lock = threading.Lock()
        self._cond = cond
        self._events = events
        self.owner = None

    def __enter__(self):
        with self._cond:
            self._events.append('waiting for the claim lock')
            self._cond.notify_all()
        self._lock.acquire()
        self.owner = threading.current_thread()

    def __exit__(self, *exc):
        self.owner = None
        self._lock.release()


class TestConcurrentClaims(ResourcesTestCase):

    def test_the_last_memory_goes_to_one_create(self):
        """A claim keeps a second create out until its record is saved.

        The first create stays inside its claim, record not saved yet,
        until the second has either reached the claim lock or, were
        there no lock, its check. Either way the outcome is decided
        then: with the lock, the second counts the first's record.
        """
        cond = threading.Condition()
        events = []
        lock = self.tracker._lock = ObservedLock(cond, events)
        original = self.driver.get_host_resources
        first_spec = self.spec(memory_mb=4096)
        first_inside = threading.Event()

        def host_resources():
            if threading.current_thread() is not first:
                with cond:
                    events.append('second in its check')
                    cond.notify_all()
            return original()

        self.driver.get_host_resources = host_resources
        results = {}

        def create_first():
            with self.tracker.claim(first_spec):
                results['owner'] = lock.owner
                first_inside.set()
                with cond:
                    cond.wait_for(lambda: len(events) > 1, WAIT)
                self.save(first_spec)
            results['first'] = 'admitted'

        def create_second():
            try:
                self.admit(self.spec(memory_mb=4096))
                results['second'] = 'admitted'
            except exception.InsufficientResources:
                results['second'] = 'refused'

        first = threading.Thread(target=create_first)
        first.start()
        self.assertTrue(first_inside.wait(WAIT))
        second = threading.Thread(target=create_second)
        second.start()
        first.join(WAIT)
        second.join(WAIT)
        # The first held the lock for its whole block...
        self.assertIs(first, results['owner'])
        # ...so the second waited for it rather than checking at once,
        self.assertEqual(['waiting for the claim lock',
                          'waiting for the claim lock',
                          'second in its check'], events)
        # and found no memory left.
        self.assertEqual('admitted', results['first'])
        self.assertEqual('refused', results['second'])
        self.assertEqual({first_spec.uuid}, self.store.uuids())
