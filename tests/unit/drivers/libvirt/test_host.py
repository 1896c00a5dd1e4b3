"""Host and Domain: the libvirt connection, on libvirt's test driver."""

import os
import threading

import fixtures
import libvirt

from computeagent import exception
from computeagent.virt import power
from computeagent_libvirt import domain
from computeagent_libvirt import domainevents
from computeagent_libvirt import host as host_mod
from tests import base
from tests.unit.drivers.libvirt import testdriver
from tests.unit.drivers.libvirt import utils

UUID = utils.UUID
OTHER = '5d0c7a4e-8d4b-4a8e-9a57-1f3e1c2b7a60'


def domain_xml(uuid=UUID, name=None):
    return ("<domain type='qemu'><name>%s</name><uuid>%s</uuid>"
            "<memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
            "<devices/></domain>" % (name or 'instance-' + uuid, uuid))


class HostTestCase(utils.EventRecording, base.TestCase):

    def setUp(self):
        super().setUp()
        path = self.useFixture(fixtures.TempDir()).path
        node = os.path.join(path, 'node.xml')
        with open(node, 'w') as f:
            f.write(testdriver.NODE_XML)
        self.uri = 'test://' + node
        self.events = []
        self.event_seen = threading.Event()
        self.reboots = []
        self.host = host_mod.Host(self.uri, domainevents.DomainEvents(
            self._on_event, self.reboots.append))
        self.addCleanup(self.host.close)


class TestMappings(base.TestCase):

    def test_power_state(self):
        cases = [
            ((libvirt.VIR_DOMAIN_RUNNING, 1, False), power.RUNNING),
            ((libvirt.VIR_DOMAIN_BLOCKED, 1, False), power.RUNNING),
            ((libvirt.VIR_DOMAIN_PAUSED, 1, False), power.PAUSED),
            ((libvirt.VIR_DOMAIN_SHUTDOWN, 1, False), power.SHUTOFF),
            ((libvirt.VIR_DOMAIN_SHUTOFF, 1, False), power.SHUTOFF),
            ((libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SAVED,
              True), power.SUSPENDED),
            # After a libvirtd restart the reason is lost; the image is not.
            ((libvirt.VIR_DOMAIN_SHUTOFF, 0, True), power.SUSPENDED),
            ((libvirt.VIR_DOMAIN_SHUTOFF,
              libvirt.VIR_DOMAIN_SHUTOFF_CRASHED, False),
             power.CRASHED),
            ((libvirt.VIR_DOMAIN_CRASHED, 0, False), power.CRASHED),
            ((libvirt.VIR_DOMAIN_PMSUSPENDED, 0, False),
             power.SUSPENDED),
        ]
        for args, expected in cases:
            self.assertEqual(expected, host_mod.power_state(*args), args)


class TestConnection(HostTestCase):

    def test_lazy_and_shared(self):
        self.assertIsNone(self.host._conn)
        conn = self.host.connection()
        self.assertTrue(conn.isAlive())
        self.assertIs(conn, self.host.connection())

    def test_unreachable_is_driver_error(self):
        host = host_mod.Host('test:///nonexistent/node.xml')
        self.addCleanup(host.close)
        self.assertRaises(exception.DriverError, host.connect)

    def test_error_mapped_with_libvirt_message(self):
        def lookup(conn):
            return conn.lookupByName('no-such-domain')
        error = self.assertRaises(exception.DriverError, self.host.call,
                                  'lookup', lookup)
        self.assertIn('Domain not found', str(error))
        self.assertIsNone(self.host.call('lookup', lookup, missing_ok=True))

    def test_refusal_keeps_the_connection(self):
        conn = self.host.connection()
        self.assertRaises(exception.DriverError, self.host.call, 'define',
                          lambda c: c.defineXML('<domain/>'))
        self.assertIs(conn, self.host.connection())

    def test_reconnects_once_when_the_connection_died(self):
        old = self.host.connection()
        # What a libvirtd restart does to a client: its connection is dead.
        old.close()
        count = self.host.call('listing', lambda c: len(c.listAllDomains()))
        self.assertEqual(0, count)
        new = self.host.connection()
        self.assertIsNot(old, new)
        self.assertTrue(new.isAlive())

    def test_events_survive_a_reconnection(self):
        self.host.connection().close()
        dom = domain.define(self.host, domain_xml())
        dom.start()
        self.wait_for_event((UUID, power.RUNNING))

    def test_lifecycle_events(self):
        dom = domain.define(self.host, domain_xml())
        dom.start()
        self.wait_for_event((UUID, power.RUNNING))
        dom.pause()
        self.wait_for_event((UUID, power.PAUSED))
        dom.managed_save()
        self.wait_for_event((UUID, power.SUSPENDED))
        dom.undefine()
        self.wait_for_event((UUID, power.NOSTATE))

    def test_device_removed_events_are_handed_over(self):
        # The test driver cannot detach devices, so it never sends one;
        # libvirt's callback is called as its event thread would.
        removed = []
        events = domainevents.DomainEvents(
            device_removed_handler=lambda *a: removed.append(a) or 1 / 0)
        host = host_mod.Host(self.uri, events)
        self.addCleanup(host.close)
        host.connect()
        # Lifecycle, reboot and device removed.
        self.assertEqual(3, len(host._callback_ids))
        dom = domain.define(host, domain_xml())
        virdom = host.connection().lookupByUUIDString(dom.uuid)
        events.device_removed(host.connection(), virdom, 'virtio-disk1',
                              None)
        self.assertEqual([(UUID, 'virtio-disk1')], removed)

    def test_without_handlers_no_callbacks_are_registered(self):
        host = host_mod.Host(self.uri)
        self.addCleanup(host.close)
        host.connect()
        self.assertEqual([], host._callback_ids)

    def test_an_unreachable_libvirtd_is_awaited(self):
        # What a restarting libvirtd looks like to a client: its socket
        # refuses (the real error of libvirt's remote driver). The third
        # attempt finds it back.
        dead = 'test+unix:///default?socket=%s/none' % self.tmp
        real_open = libvirt.open
        attempts = []

        def flaky_open(uri):
            attempts.append(uri)
            return real_open(dead if len(attempts) < 3 else uri)
        self.useFixture(fixtures.MonkeyPatch('libvirt.open', flaky_open))
        self.host.reconnect_timeout = 30
        self.assertTrue(self.host.connection().isAlive())
        self.assertEqual([self.uri] * 3, attempts)

    def test_the_wait_is_bounded(self):
        host = host_mod.Host('test+unix:///default?socket=%s/none'
                             % self.tmp, reconnect_timeout=0.2)
        self.addCleanup(host.close)
        error = self.assertRaises(exception.DriverError, host.connect)
        self.assertIn('Failed to connect socket', str(error))

    def test_a_bad_uri_is_not_awaited(self):
        host = host_mod.Host('test:///nonexistent/node.xml',
                             reconnect_timeout=3600)
        self.addCleanup(host.close)
        self.assertRaises(exception.DriverError, host.connect)

    def test_close_ends_a_wait(self):
        host = host_mod.Host('test+unix:///default?socket=%s/none'
                             % self.tmp, reconnect_timeout=3600)
        errors = []

        def connect():
            try:
                host.connect()
            except exception.DriverError as error:
                errors.append(error)
        waiter = threading.Thread(target=connect)
        waiter.start()
        # Close until the waiter gives up: a close before it began its
        # wait would not be seen by it, as it should not.
        while waiter.is_alive():
            host.close()
            waiter.join(0.05)
        self.assertEqual(1, len(errors))

    def test_the_handler_hears_of_reconnections_only(self):
        reconnects = []
        host = host_mod.Host(self.uri,
                             reconnect_handler=lambda: reconnects.append(1))
        self.addCleanup(host.close)
        host.connect()
        self.assertEqual([], reconnects)
        host.connection().close()
        host.call('listing', lambda c: c.listAllDomains())
        self.assertEqual([1], reconnects)

    def test_close_and_reopen(self):
        old = self.host.connection()
        self.host.close()
        self.assertIsNone(self.host._conn)
        self.assertIsNot(old, self.host.connection())


class TestDomain(HostTestCase):

    def test_find_and_get(self):
        self.assertIsNone(domain.find(self.host, UUID))
        error = self.assertRaises(exception.DriverError, domain.get,
                                  self.host, UUID)
        self.assertIn('Domain not found', str(error))
        domain.define(self.host, domain_xml())
        self.assertEqual(UUID, domain.get(self.host, UUID).uuid)
        self.assertEqual(UUID, domain.find(self.host, UUID).uuid)

    def test_define_refused(self):
        error = self.assertRaises(exception.DriverError, domain.define,
                                  self.host, '<domain><name>x</name>'
                                  '</domain>')
        self.assertIn('missing domain type attribute', str(error))

    def test_power_cycle(self):
        dom = domain.define(self.host, domain_xml())
        self.assertEqual(power.SHUTOFF, dom.power_state())
        self.assertEqual(-1, dom.id())
        dom.start()
        first_id = dom.id()
        self.assertEqual(power.RUNNING, dom.power_state())
        dom.pause()
        self.assertEqual(power.PAUSED, dom.power_state())
        dom.unpause()
        dom.managed_save()
        self.assertTrue(dom.has_managed_save())
        self.assertEqual(power.SUSPENDED, dom.power_state())
        dom.start()
        self.assertFalse(dom.has_managed_save())
        self.assertNotEqual(first_id, dom.id())
        dom.shutdown()
        self.assertEqual(power.SHUTOFF, dom.power_state())

    def test_destroy_is_quiet_when_off(self):
        dom = domain.define(self.host, domain_xml())
        dom.destroy()
        dom.start()
        dom.destroy()
        self.assertFalse(dom.is_active())

    def test_undefine_removes_managed_save(self):
        dom = domain.define(self.host, domain_xml())
        dom.start()
        dom.managed_save()
        dom.undefine()
        self.assertIsNone(domain.find(self.host, UUID))

    def test_refused_operation_is_driver_error(self):
        dom = domain.define(self.host, domain_xml())
        error = self.assertRaises(exception.DriverError, dom.pause)
        self.assertIn('not running', str(error))

    def test_looked_up_again_after_reconnection(self):
        dom = domain.define(self.host, domain_xml())
        old = self.host.connection()
        # libvirt's close callback, as when libvirtd goes away.
        self.host._on_close(old, 0, None)
        # The test driver's new connection is a new, empty host: the
        # domain is looked up there, not called on the old handle.
        error = self.assertRaises(exception.DriverError, dom.start)
        self.assertIn('Domain not found', str(error))
        self.assertIsNot(old, self.host.connection())
        domain.define(self.host, domain_xml())
        dom.start()
        self.assertTrue(dom.is_active())
