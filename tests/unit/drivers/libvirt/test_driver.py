"""The libvirt driver as a whole, on libvirt's test driver."""

from computeagent_libvirt import driver as driver_mod
from tests import base
from tests.unit.drivers.libvirt import testdriver


class TestReconnection(base.TestCase):

    def test_a_reconnection_asks_for_a_resync(self):
        hypervisor = self.useFixture(testdriver.TestDriver())
        self.flags(connection_uri=hypervisor.uri, group='libvirt')
        driver = driver_mod.LibvirtDriver(self.conf)
        self.addCleanup(driver.cleanup_host)
        resyncs = []
        driver.register_resync_listener(lambda: resyncs.append(True))
        self.assertEqual({}, driver.list_power_states())
        self.assertEqual([], resyncs)
        # What a libvirtd restart does to the agent's connection.
        driver.host.connection().close()
        self.assertEqual({}, driver.list_power_states())
        self.assertEqual([True], resyncs)
