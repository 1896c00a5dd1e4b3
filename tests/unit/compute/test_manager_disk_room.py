"""attach_disk admission: an attached disk claims host disk as creates do."""

import os
import threading

import fixtures
from oslo_utils import units

from computeagent import exception
from computeagent_fake import driver as fake_driver
from tests.unit import agentfixtures
from tests.unit.compute import test_disk_operations as test_manager_disks

BLANK = test_manager_disks.BLANK


class DiskRoomTestCase(test_manager_disks.DiskTestCase):
    """A host with 100 MiB of disk for instances (1 GiB, 924 reserved)."""

    def setUp(self):
        super().setUp()
        self.flags(reserved_host_disk_mb=924, disk_allocation_ratio=1.0)
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'get_host_resources', return_value={
                'hypervisor': 'fake', 'vcpus': fake_driver.FAKE_VCPUS,
                'memory_mb': fake_driver.FAKE_MEMORY_MB,
                'disk_bytes': units.Gi, 'disk_bytes_free': units.Gi}))
        # Its only disk is from an image of unknown size: it counts 0.
        self.uuid = self.create()['uuid']

    def state(self, uuid=None):
        """What a refused attach must leave as it was."""
        uuid = uuid or self.uuid
        return (self.call('get_instance', uuid=uuid),
                self.store.get_stored(uuid).spec,
                self.driver._guests[uuid]['disks'],
                sorted(os.listdir(self.instance_dir(uuid))))

    def used_disk(self):
        return self.manager.resources.usage()['disk_mb']


class TestAttachDiskResources(DiskRoomTestCase):

    def test_a_disk_beyond_the_free_space_is_refused(self):
        self.call('attach_disk', uuid=self.uuid, disk=dict(BLANK,
                                                           size_mb=60))
        before = self.state()
        error = self.assertRaises(exception.InsufficientResources,
                                  self.call, 'attach_disk', uuid=self.uuid,
                                  disk=dict(BLANK, size_mb=41))
        self.assertIn('disk vdc of instance %s' % self.uuid, str(error))
        self.assertIn('41 MiB of disk asked, 40 MiB of 100 MiB free',
                      str(error))
        self.assertEqual(before, self.state())
        self.assertEqual(1, len(self.notifications.messages(
            'instance.attach_disk.error')))
        self.call('attach_disk', uuid=self.uuid, disk=dict(BLANK,
                                                           size_mb=40))
        self.assertEqual(100, self.used_disk())

    def test_the_ratio_and_reservation_apply(self):
        # (1024 - 824) * 1.5 = 300
        self.flags(reserved_host_disk_mb=824, disk_allocation_ratio=1.5)
        self.call('attach_disk', uuid=self.uuid, disk=dict(BLANK,
                                                           size_mb=300))
        self.assertRaises(exception.InsufficientResources, self.call,
                          'attach_disk', uuid=self.uuid, disk=BLANK)

    def test_an_image_disk_counts_its_image_size(self):
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'disk_sizes_mb',
            side_effect=lambda spec: {d.target: 70 for d in spec.disks
                                      if d.image == 'big'}))
        self.call('attach_disk', uuid=self.uuid,
                  disk={'source': {'image': 'big'}})
        error = self.assertRaises(exception.InsufficientResources,
                                  self.call, 'attach_disk', uuid=self.uuid,
                                  disk={'source': {'image': 'big'}})
        self.assertIn('70 MiB of disk asked, 30 MiB of 100 MiB free',
                      str(error))
        # size_mb wins over the image's size, as at create.
        self.call('attach_disk', uuid=self.uuid,
                  disk={'source': {'image': 'big'}, 'size_mb': 30})
        self.assertEqual(100, self.used_disk())

    def test_a_cdrom_takes_no_space(self):
        self.call('attach_disk', uuid=self.uuid, disk=dict(BLANK,
                                                           size_mb=100))
        self.call('attach_disk', uuid=self.uuid,
                  disk={'source': {'image': 'x.iso'}, 'device': 'cdrom'})
        self.assertEqual(['vda', 'vdb', 'sda'], self.targets(self.uuid))

    def test_creates_count_attached_disks(self):
        self.call('attach_disk', uuid=self.uuid, disk=dict(BLANK,
                                                           size_mb=95))
        error = self.assertRaises(
            exception.InsufficientResources, self.create,
            disks=[{'source': {'blank': True}, 'size_mb': 6}])
        self.assertIn('6 MiB of disk asked, 5 MiB of 100 MiB free',
                      str(error))

    def test_a_detach_frees_the_space(self):
        self.call('attach_disk', uuid=self.uuid, disk=dict(BLANK,
                                                           size_mb=100))
        self.assertRaises(exception.InsufficientResources, self.call,
                          'attach_disk', uuid=self.uuid, disk=BLANK)
        self.call('detach_disk', uuid=self.uuid, target='vdb')
        self.assertEqual(0, self.used_disk())
        self.call('attach_disk', uuid=self.uuid, disk=dict(BLANK,
                                                           size_mb=100))

    def test_a_failed_attach_frees_its_claim(self):
        with fixtures.MockPatchObject(
                self.driver, 'attach_disk',
                side_effect=exception.DriverError(reason='no slot')):
            self.assertRaises(exception.DriverError, self.call,
                              'attach_disk', uuid=self.uuid,
                              disk=dict(BLANK, size_mb=100))
        self.assertEqual(0, self.used_disk())
        self.call('attach_disk', uuid=self.uuid, disk=dict(BLANK,
                                                           size_mb=100))


class TestConcurrentClaims(DiskRoomTestCase):
    """Attaches and creates share the last space; nothing sleeps.

    One request is held inside the driver (after its admission) by an
    Event while the other is made; the held one's space must count.
    """

    def setUp(self):
        super().setUp()
        self.gate = threading.Event()
        self.inside = threading.Event()

    def hold(self, method):
        """Make the driver's ``method`` wait for the gate once inside."""
        real = getattr(self.driver, method)

        def held(*args, **kwargs):
            self.inside.set()
            self.assertTrue(self.gate.wait(agentfixtures.WAIT))
            return real(*args, **kwargs)
        self.useFixture(fixtures.MockPatchObject(self.driver, method,
                                                 side_effect=held))

    def in_thread(self, func):
        result = {}

        def run():
            try:
                result['value'] = func()
            except Exception as error:
                result['value'] = error
        thread = threading.Thread(target=run)
        thread.start()
        self.addCleanup(thread.join, agentfixtures.WAIT)
        self.addCleanup(self.gate.set)  # before the join, if a test fails
        self.assertTrue(self.inside.wait(agentfixtures.WAIT))
        return thread, result

    def finish(self, thread, result):
        self.gate.set()
        thread.join(agentfixtures.WAIT)
        self.assertFalse(thread.is_alive())
        return result['value']

    def test_an_attach_under_way_holds_its_space(self):
        other = self.create()['uuid']
        self.hold('attach_disk')
        real_update = self.store.update
        seen = []

        def update(uuid, **fields):
            # Right after the spec names the disk, the claim is still
            # held: the disk must count once, not twice.
            record = real_update(uuid, **fields)
            seen.append(self.used_disk())
            return record
        self.useFixture(fixtures.MockPatchObject(self.store, 'update',
                                                 side_effect=update))
        thread, result = self.in_thread(lambda: self.call(
            'attach_disk', uuid=self.uuid, disk=dict(BLANK, size_mb=100)))
        self.assertEqual(100, self.used_disk())
        self.assertRaises(exception.InsufficientResources, self.create,
                          disks=[{'source': {'blank': True}, 'size_mb': 1}])
        self.assertRaises(exception.InsufficientResources, self.call,
                          'attach_disk', uuid=other,
                          disk=dict(BLANK, size_mb=1))
        record = self.finish(thread, result)
        self.assertEqual(['vda', 'vdb'],
                         [d['target'] for d in record['disks']])
        self.assertEqual(100, seen[0])
        self.assertEqual(100, self.used_disk())
        self.assertEqual({}, self.manager.resources._attaching)

    def test_a_create_under_way_holds_its_space(self):
        self.hold('spawn')
        thread, result = self.in_thread(lambda: self.create(
            disks=[{'source': {'blank': True}, 'size_mb': 100}]))
        before = self.state()
        self.assertRaises(exception.InsufficientResources, self.call,
                          'attach_disk', uuid=self.uuid,
                          disk=dict(BLANK, size_mb=1))
        self.assertEqual(before, self.state())
        self.assertEqual('running', self.finish(thread, result)['state'])
