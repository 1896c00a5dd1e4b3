"""Node: the host-wide reads, on libvirt's test driver."""

import fixtures

from computeagent.virt import power
from computeagent_libvirt import domain
from computeagent_libvirt import node as node_mod
from tests import base
from tests.unit.drivers.libvirt import test_host

UUID = test_host.UUID
OTHER = test_host.OTHER


class TestFormatVersion(base.TestCase):

    def test_format_version(self):
        self.assertEqual('9.0.0', node_mod.format_version(9000000))
        self.assertEqual('7.2.22', node_mod.format_version(7002022))


class TestNode(test_host.HostTestCase):

    def setUp(self):
        super().setUp()
        self.node = node_mod.Node(self.host)

    def test_power_states_of_every_domain(self):
        domain.define(self.host, test_host.domain_xml()).start()
        saved = domain.define(self.host, test_host.domain_xml(OTHER))
        saved.start()
        saved.managed_save()
        # Not one of ours: reported too, the manager ignores it.
        foreign = '11111111-2222-3333-4444-555555555555'
        domain.define(self.host, test_host.domain_xml(foreign, name='foreign'))
        self.assertEqual({UUID: power.RUNNING,
                          OTHER: power.SUSPENDED,
                          foreign: power.SHUTOFF},
                         self.node.power_states())

    def test_arch_and_resources(self):
        self.assertEqual('i686', self.node.arch())
        resources = self.node.resources()
        self.assertEqual(4, resources['vcpus'])
        self.assertEqual(8192, resources['memory_mb'])
        self.assertRegex(resources['hypervisor'],
                         r'^TEST \d+\.\d+\.\d+ \(libvirt \d+\.\d+\.\d+\)$')

    def test_resources_are_read_again_after_a_while_or_a_reconnection(self):
        calls = []
        original = self.host.call

        def call(what, *args, **kwargs):
            calls.append(what)
            return original(what, *args, **kwargs)
        self.useFixture(fixtures.MockPatchObject(self.host, 'call', call))
        now = [1000.0]
        self.useFixture(fixtures.MockPatch(
            'computeagent_libvirt.node.time.monotonic', lambda: now[0]))

        read = ['reading host info', 'reading memory stats']
        first = self.node.resources()
        self.assertEqual(read, calls)
        first['vcpus'] = 99  # a caller's copy, not the cache
        now[0] += node_mod.RESOURCES_TTL - 1
        self.assertEqual(4, self.node.resources()['vcpus'])
        self.assertEqual(read, calls)

        now[0] += 1
        self.assertEqual(4, self.node.resources()['vcpus'])
        self.assertEqual(read * 2, calls)

        # A new connection (libvirtd restarted, perhaps upgraded).
        self.host.close()
        self.node.resources()
        self.assertEqual(read * 3, calls)

    def test_memory_is_the_stats_total_when_there_are_stats(self):
        info = self.host.call('reading host info', lambda c: c.getInfo())
        # The test driver has no memory stats: getInfo's figure.
        self.assertEqual(info[1], node_mod.memory_mb(self.host, info))
        # A hypervisor that has them: MemTotal, which libvirt gives in KiB.
        original = self.host.call

        def call(what, func, *args, **kwargs):
            if what == 'reading memory stats':
                return {'total': 24 * 1024 * 1024, 'free': 1024}
            return original(what, func, *args, **kwargs)
        self.useFixture(fixtures.MockPatchObject(self.host, 'call', call))
        self.assertEqual(24 * 1024, node_mod.memory_mb(self.host, info))
