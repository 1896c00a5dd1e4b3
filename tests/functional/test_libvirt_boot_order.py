"""Real QEMU guests: set_boot_order, the monitor's boot_set (API 1.3).

Two disks whose boot sectors print different markers to COM1 and halt:
the console log says which one SeaBIOS booted. The new order is for the
guest's next boot: the running guest keeps its own until it is started
again from its definition, whose per-device <boot order> the record and
instance.json must tell exactly.
"""

import json
import os
import signal

from tests.functional import libvirt_helpers as lh

MAC = '52:54:00:0b:00:7e'


class TestSetBootOrder(lh.LibvirtTestCase):

    shared_agent = True

    def _two_disks(self, **extra):
        """A running guest booted from vda (A), with vdb (B) second.

        :returns: (uuid, marker A, marker B)
        """
        a, b = lh.new_marker('BOOT-A'), lh.new_marker('BOOT-B')
        spec = self.spec([
            {'source': {'image': self.raw_image('a.img', a)},
             'boot_index': 1},
            {'source': {'image': self.raw_image('b.img', b)},
             'boot_index': 2}], **extra)
        self.create(spec)
        output = lh.wait_for_console(self.agent, spec['uuid'], a)
        self.assertNotIn(b.decode(), output)
        return spec['uuid'], a, b

    def set_boot_order(self, uuid, boot_order):
        return self.agent.client.prepare(version='1.3').call(
            {}, 'set_boot_order', uuid=uuid, boot_order=boot_order)

    @staticmethod
    def _orders(domain):
        """{target or MAC: boot order or None} of a domain's devices."""
        orders = {}
        for disk in domain.findall('devices/disk'):
            boot = disk.find('boot')
            orders[disk.find('target').get('dev')] = (
                int(boot.get('order')) if boot is not None else None)
        for nic in domain.findall('devices/interface'):
            boot = nic.find('boot')
            orders[nic.find('mac').get('address')] = (
                int(boot.get('order')) if boot is not None else None)
        return orders

    def assertRecordIsTheDefinition(self, uuid, record):
        """The record, the stored spec and the definition agree."""
        defined = lh.dumpxml(uuid, inactive=True)
        self.assertIsNone(defined.find('os/boot'))
        orders = self._orders(defined)
        self.assertEqual({d['target']: orders[d['target']]
                          for d in record['disks']},
                         {d['target']: d['boot_index']
                          for d in record['disks']})
        with open(os.path.join(self.instance_dir(uuid),
                               'instance.json')) as f:
            stored = json.load(f)
        self.assertNotIn('task', stored)
        self.assertEqual(record, stored['record'])
        spec = stored['spec']
        self.assertEqual(
            {d['target']: orders[d['target']] for d in spec['disks']},
            {d['target']: d['boot_index'] for d in spec['disks']})
        self.assertEqual({n['mac']: orders[n['mac']] for n in spec['nics']},
                         {n['mac']: n['boot_index'] for n in spec['nics']})
        self.assertEqual(record, self.agent.call('get_instance', uuid=uuid))

    def test_a_running_guest_boots_the_other_disk_after_a_hard_reboot(self):
        uuid, a, b = self._two_disks()
        record = self.set_boot_order(uuid, ['vdb', 'vda'])
        self.assertEqual(('running', [2, 1]), (
            record['state'], [d['boot_index'] for d in record['disks']]))
        self.assertRecordIsTheDefinition(uuid, record)
        # The running guest keeps the order it booted with.
        self.assertEqual({'vda': 1, 'vdb': 2},
                         self._orders(lh.dumpxml(uuid)))
        self.assertNotIn(b.decode(), self.agent.call(
            'get_console_output', uuid=uuid)['output'])

        self.agent.call('reboot_instance', uuid=uuid, hard=True)
        output = lh.wait_for_console(self.agent, uuid, b)
        # A before, once; then B: the other disk booted.
        self.assertEqual(1, output.count(a.decode()))
        self.assertLess(output.index(a.decode()), output.index(b.decode()))
        self.assertEqual({'vda': 2, 'vdb': 1},
                         self._orders(lh.dumpxml(uuid)))
        self.assertRecordIsTheDefinition(
            uuid, self.agent.call('get_instance', uuid=uuid))

    def test_a_stopped_guest_starts_from_the_new_order(self):
        uuid, a, b = self._two_disks(nics=[{'mac': MAC}])
        self.stop(uuid)
        record = self.set_boot_order(uuid, ['vdb', MAC.upper()])
        self.assertEqual(('shutoff', [None, 1]), (
            record['state'], [d['boot_index'] for d in record['disks']]))
        self.assertRecordIsTheDefinition(uuid, record)
        self.assertEqual({'vda': None, 'vdb': 1, MAC: 2},
                         self._orders(lh.dumpxml(uuid, inactive=True)))

        self.assertEqual('running', self.agent.call(
            'start_instance', uuid=uuid)['state'])
        output = lh.wait_for_console(self.agent, uuid, b)
        self.assertEqual(1, output.count(a.decode()))
        # The definition written again is still the agent's own: the
        # delete takes it.
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         self.agent.call('delete_instance', uuid=uuid))
        self.assertNotIn(uuid, lh.domain_uuids())

    def test_a_refused_order_changes_nothing(self):
        uuid, _a, _b = self._two_disks()
        before = lh.virsh('dumpxml', '--inactive', uuid)
        self.assertRemoteError('InvalidSpec', self.set_boot_order, uuid,
                               ['vdb', 'vdb'])
        self.assertRemoteError('InvalidSpec', self.set_boot_order, uuid,
                               'cdc')
        self.assertEqual(before, lh.virsh('dumpxml', '--inactive', uuid))
        self.assertRecordIsTheDefinition(
            uuid, self.agent.call('get_instance', uuid=uuid))

    @lh.own_agent
    def test_an_agent_killed_before_the_definition_changed(self):
        # The agent stores the new order, with its mark, before it asks
        # libvirt; killed in between, it leaves exactly this.
        uuid, a, b = self._two_disks()
        self.agent.stop(signal.SIGKILL)
        path = os.path.join(self.instance_dir(uuid), 'instance.json')
        with open(path) as f:
            stored = json.load(f)
        order = {'vda': 2, 'vdb': 1}
        for disks in (stored['record']['disks'], stored['spec']['disks']):
            for disk in disks:
                disk['boot_index'] = order[disk['target']]
        stored['task'] = 'setting_boot_order'
        with open(path, 'w') as f:
            json.dump(stored, f)
        self.assertEqual({'vda': 1, 'vdb': 2},
                         self._orders(lh.dumpxml(uuid, inactive=True)))

        self.agent.start()
        record = self.agent.call('get_instance', uuid=uuid)
        self.assertEqual([2, 1], [d['boot_index'] for d in record['disks']])
        self.assertRecordIsTheDefinition(uuid, record)
        self.agent.call('reboot_instance', uuid=uuid, hard=True)
        output = lh.wait_for_console(self.agent, uuid, b)
        self.assertEqual(1, output.count(a.decode()))
