"""DomainEvents: libvirt's domain events as power states, handed over."""

import libvirt

from computeagent.virt import power
from computeagent_libvirt import domain
from computeagent_libvirt import domainevents
from tests import base
from tests.unit.drivers.libvirt import test_host

UUID = test_host.UUID


class TestEventState(base.TestCase):

    def test_event_state(self):
        cases = [
            ((libvirt.VIR_DOMAIN_EVENT_STARTED, 0),
             (True, power.RUNNING)),
            ((libvirt.VIR_DOMAIN_EVENT_SUSPENDED, 0),
             (True, power.PAUSED)),
            ((libvirt.VIR_DOMAIN_EVENT_RESUMED, 0),
             (True, power.RUNNING)),
            ((libvirt.VIR_DOMAIN_EVENT_STOPPED,
              libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
             (True, power.SHUTOFF)),
            ((libvirt.VIR_DOMAIN_EVENT_STOPPED,
              libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED),
             (True, power.SUSPENDED)),
            ((libvirt.VIR_DOMAIN_EVENT_STOPPED,
              libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED),
             (True, power.CRASHED)),
            ((libvirt.VIR_DOMAIN_EVENT_CRASHED, 0),
             (True, power.CRASHED)),
            ((libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED, 0),
             (True, power.SUSPENDED)),
            ((libvirt.VIR_DOMAIN_EVENT_UNDEFINED, 0),
             (True, power.NOSTATE)),
            ((libvirt.VIR_DOMAIN_EVENT_DEFINED, 0), (False, None)),
            ((libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, 0), (False, None)),
        ]
        for args, expected in cases:
            self.assertEqual(expected, domainevents.event_state(*args),
                             args)


class TestDomainEvents(test_host.HostTestCase):

    def virdom(self):
        dom = domain.define(self.host, test_host.domain_xml())
        return self.host.connection().lookupByUUIDString(dom.uuid)

    def test_only_power_changes_are_handed_over(self):
        seen = []
        events = domainevents.DomainEvents(
            lifecycle_handler=lambda *a: seen.append(a))
        virdom = self.virdom()
        conn = self.host.connection()
        events.lifecycle(conn, virdom, libvirt.VIR_DOMAIN_EVENT_DEFINED, 0,
                         None)
        events.lifecycle(conn, virdom, libvirt.VIR_DOMAIN_EVENT_STARTED, 0,
                         None)
        # No handler for reboots: nothing to hand over, nothing raised.
        events.reboot(conn, virdom, None)
        self.assertEqual([(UUID, power.RUNNING)], seen)

    def test_a_failing_handler_does_not_reach_libvirt(self):
        calls = []

        def failing(uuid):
            calls.append(uuid)
            raise RuntimeError('handler bug')
        events = domainevents.DomainEvents(reboot_handler=failing)
        events.reboot(self.host.connection(), self.virdom(), None)
        self.assertEqual([UUID], calls)
