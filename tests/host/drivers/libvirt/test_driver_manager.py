"""The manager over the libvirt driver, on libvirt's test driver.

What only shows with real disk files and domains: a create never removes
files or a guest it did not make, and attach_disk is admitted against
the host's disk before any file or device is made (libvirt 9.0's test
driver cannot attach a device, so only the refusal is seen here).
"""

import os

import fixtures
from oslo_utils import units

from computeagent import exception
from computeagent_libvirt import domain
from tests.host.drivers.libvirt import driver_base
from tests.unit import agentfixtures

UUID = driver_base.UUID


class ManagerTestCase(driver_base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(agentfixtures.FakeTransport(self.conf))
        self.endpoint = agentfixtures.build_endpoint(self.conf, self.driver)
        self.manager = self.endpoint.manager

    def call(self, method, **kwargs):
        return agentfixtures.call_endpoint(getattr(self.endpoint, method),
                                           agentfixtures.context(), **kwargs)

    def create(self):
        return self.call('create_instance', spec={
            'uuid': UUID, 'disks': [{'source': {'image': 'boot.raw'}}]})


class TestCreateLeavesWhatItDidNotMake(ManagerTestCase):

    def test_foreign_files_survive_a_create_that_would_fail(self):
        directory = self.instance_dir()
        os.makedirs(directory)
        with open(os.path.join(directory, 'precious.img'), 'w') as f:
            f.write('x')
        # A start that fails: the rollback would remove the directory.
        self.useFixture(fixtures.MockPatchObject(
            domain.Domain, 'start', side_effect=exception.DriverError(
                reason='refused for the test')))
        error = self.assertRaises(exception.InstanceExists, self.create)
        self.assertIn('%s already holds files the agent did not make: '
                      'precious.img' % directory, str(error))
        self.assertEqual(['precious.img'], os.listdir(directory))
        self.assertEqual([], self.domain_uuids())

    def test_a_guest_without_a_record_keeps_running(self):
        # A guest of the agent's own making whose record is gone.
        record = self.spawn()
        error = self.assertRaises(exception.DriverError, self.create)
        self.assertIn('already has a domain with uuid %s' % UUID,
                      str(error))
        self.assertEqual([UUID], self.domain_uuids())
        self.assertTrue(self.lookup().isActive())
        self.assertTrue(os.path.isfile(record.record.disks[0].path))


class TestAttachIsAdmitted(ManagerTestCase):

    def setUp(self):
        super().setUp()
        # 100 MiB for instances; the 1 MiB boot image counts 1.
        self.flags(reserved_host_disk_mb=924, disk_allocation_ratio=1.0)
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'get_host_resources', return_value={
                'hypervisor': 'test', 'vcpus': 8, 'memory_mb': 8192,
                'disk_bytes': units.Gi, 'disk_bytes_free': units.Gi}))
        self.create()

    def test_nothing_is_made_for_a_disk_that_does_not_fit(self):
        before = (self.call('get_instance', uuid=UUID),
                  self.lookup().XMLDesc(0),
                  sorted(os.listdir(self.instance_dir())))
        error = self.assertRaises(
            exception.InsufficientResources, self.call, 'attach_disk',
            uuid=UUID, disk={'source': {'blank': True}, 'size_mb': 100})
        self.assertIn('100 MiB of disk asked, 99 MiB of 100 MiB free',
                      str(error))
        self.assertEqual(before, (self.call('get_instance', uuid=UUID),
                                  self.lookup().XMLDesc(0),
                                  sorted(os.listdir(self.instance_dir()))))
        # One that fits gets as far as libvirt (whose test driver has
        # no attachDeviceFlags: the success path is for the functional
        # tests) and is undone there.
        error = self.assertRaises(
            exception.DriverError, self.call, 'attach_disk', uuid=UUID,
            disk={'source': {'blank': True}, 'size_mb': 99})
        self.assertIn('virDomainAttachDeviceFlags', str(error))
        self.assertEqual(1, self.manager.resources.usage()['disk_mb'])
