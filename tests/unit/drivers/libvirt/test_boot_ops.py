"""set_boot_order of the libvirt driver, on libvirt's test driver.

The domain is one the designer makes; the new definition is checked by
libvirt's own parser (which refuses duplicate boot orders and an
``<os><boot dev>`` beside per-device ones) and read back.
"""

import dataclasses

from computeagent.objects import record as record_obj
from computeagent.objects import stored as stored_obj
from computeagent_libvirt import boot_ops
from computeagent_libvirt.config import bootorder
from computeagent_libvirt.config import devices as device_config
from computeagent_libvirt.config import disks as disk_config
from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt.design import guest as designer
from computeagent_libvirt import domain
from computeagent_libvirt import host as host_mod
from tests import base
from tests.unit.drivers.libvirt import testdriver
from tests.unit.drivers.libvirt import utils

MAC = '52:54:00:00:00:07'


def instance(spec):
    return stored_obj.StoredInstance(
        spec=spec, record=record_obj.InstanceRecord(
            uuid=spec.uuid, name=spec.name, host='test-host',
            state='running', vcpus=1, memory_mb=128, disks=(),
            serial_ports=(), console_log=None, created_at='',
            metadata=()))


def ordered(spec, **orders):
    """``spec`` with these boot indexes (by target, ``nic`` for the nic)."""
    return dataclasses.replace(
        spec,
        disks=tuple(dataclasses.replace(d, boot_index=orders.get(d.target))
                    for d in spec.disks),
        nics=tuple(dataclasses.replace(n, boot_index=orders.get('nic'))
                   for n in spec.nics))


class TestBootOps(base.TestCase):

    def setUp(self):
        super().setUp()
        self.flags(virt_type='qemu', group='libvirt')
        self.libvirt = self.useFixture(testdriver.TestDriver())
        self.host = host_mod.Host(self.libvirt.uri)
        self.addCleanup(self.host.close)
        self.spec = utils.make_spec(
            disks=[utils.make_disk(target='vda', boot_index=1),
                   utils.make_disk(target='vdb', boot_index=2),
                   utils.make_cdrom(target='sda')],
            nics=[utils.make_nic(mac=MAC)])
        xml = designer.design_guest(self.spec, utils.plan_for(self.spec),
                                    self.conf).to_xml()
        # Each connection to the test driver is a host of its own: the
        # domain is defined through the one BootOps uses.
        domain.define(self.host, xml)
        self.ops = boot_ops.BootOps(self.host)

    def xml(self, inactive=True):
        return domain.get(self.host, self.spec.uuid).xml(inactive)

    def test_a_swap_in_one_definition(self):
        self.ops.set_boot_order(instance(ordered(self.spec, vdb=1, vda=2)))
        self.assertEqual({('disk', 'vda'): 2, ('disk', 'vdb'): 1,
                          ('disk', 'sda'): None, ('nic', MAC): None},
                         bootorder.boot_orders(self.xml()))

    def test_a_letter_order_gives_each_kind_its_turn(self):
        letters = dataclasses.replace(ordered(self.spec), boot_order='dc')
        self.ops.set_boot_order(instance(letters))
        self.assertEqual({('disk', 'vda'): 2, ('disk', 'vdb'): 3,
                          ('disk', 'sda'): 1, ('nic', MAC): None},
                         bootorder.boot_orders(self.xml()))

    def test_unlisted_devices_lose_their_order(self):
        self.ops.set_boot_order(instance(ordered(self.spec, sda=1, nic=2)))
        self.assertEqual({('disk', 'vda'): None, ('disk', 'vdb'): None,
                          ('disk', 'sda'): 1, ('nic', MAC): 2},
                         bootorder.boot_orders(self.xml()))
        # Asked again: nothing changes.
        before = self.xml()
        self.ops.set_boot_order(instance(ordered(self.spec, sda=1, nic=2)))
        self.assertEqual(before, self.xml())

    def test_the_rest_of_the_definition_is_kept(self):
        before = guest_config.Guest.parse_str(self.xml())
        self.ops.set_boot_order(instance(ordered(self.spec, vdb=1)))
        after = guest_config.Guest.parse_str(self.xml())
        # Still the agent's domain, with the same devices otherwise.
        self.assertEqual(self.spec.name,
                         after.instance_metadata().display_name)
        for guest in (before, after):
            for disk in guest.find_devices(disk_config.Disk):
                disk.boot_order = None
            for nic in guest.find_devices(device_config.Interface):
                nic.boot_order = None
            guest.metadata = []
        self.assertEqual(before.to_xml(), after.to_xml())

    def test_an_os_boot_dev_goes(self):
        xml = self.xml().replace('<os>', "<os><boot dev='cdrom'/>")
        for disk in ('vda', 'vdb'):
            xml = xml.replace("<boot order='%d'/>" % (
                1 if disk == 'vda' else 2), '')
        domain.define(self.host, xml)
        self.assertIn("<boot dev='cdrom'/>", self.xml())
        self.ops.set_boot_order(instance(ordered(self.spec, vdb=1)))
        self.assertNotIn('<boot dev=', self.xml())
        self.assertEqual(1, bootorder.boot_orders(self.xml())[('disk',
                                                               'vdb')])

    def test_a_running_guest_boots_next_in_the_new_order(self):
        domain.get(self.host, self.spec.uuid).start()
        self.assertFalse(boot_ops.next_boot_differs(
            domain.get(self.host, self.spec.uuid)))
        self.ops.set_boot_order(instance(ordered(self.spec, vdb=1, vda=2)))
        dom = domain.get(self.host, self.spec.uuid)
        self.assertEqual(1, bootorder.boot_orders(dom.xml())[('disk',
                                                              'vda')])
        self.assertEqual(2, bootorder.boot_orders(dom.xml(True))[('disk',
                                                                  'vda')])
        self.assertTrue(boot_ops.next_boot_differs(dom))
