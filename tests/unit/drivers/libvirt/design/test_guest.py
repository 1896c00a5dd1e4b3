"""Guest-level decisions: domain and machine type, boot menu, video,
graphics, NICs and MACs, metadata."""

import copy
import re

from computeagent.schema import instance as schema
from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt.design import guest as designer
from tests.unit.drivers.libvirt.design import base as designer_base
from tests.unit.drivers.libvirt import utils

MAC_RE = re.compile(r'^52:54:00(:[0-9a-f]{2}){3}$')


class TestGuest(designer_base.DesignerTestCase):

    def test_basics(self):
        spec = utils.make_spec(name='my guest', vcpus=3, memory_mb=256)
        guest, dom = self.design(spec)
        self.assertEqual('kvm', dom.get('type'))
        self.assertEqual('instance-' + utils.UUID, dom.find('name').text)
        self.assertEqual(designer.domain_name(utils.UUID),
                         dom.find('name').text)
        self.assertEqual(utils.UUID, dom.find('uuid').text)
        self.assertEqual({'unit': 'KiB'}, dom.find('memory').attrib)
        self.assertEqual('262144', dom.find('memory').text)
        self.assertEqual('3', dom.find('vcpu').text)
        self.assertEqual('hvm', dom.find('os/type').text)
        self.assertEqual('pc', dom.find('os/type').get('machine'))
        self.assertIsNone(dom.find('os/type').get('arch'))
        self.assertIsNone(dom.find('devices/emulator'))
        name = dom.find('metadata/{%s}instance/{%s}name' %
                        (guest_config.METADATA_NS, guest_config.METADATA_NS))
        self.assertEqual('my guest', name.text)

    def test_display_name_is_escaped_not_a_domain_name(self):
        spec = utils.make_spec(name='../<x> & "y"')
        guest, dom = self.design(spec)
        self.assertEqual('instance-' + utils.UUID, dom.find('name').text)
        stored = self.libvirt.define_and_read_back(guest.to_xml())
        name = stored.find('metadata/{%s}instance/{%s}name' %
                           (guest_config.METADATA_NS,
                            guest_config.METADATA_NS))
        self.assertEqual('../<x> & "y"', name.text)

    def test_virt_type_and_machine_from_conf(self):
        self.flags(virt_type='qemu', machine_type='q35', group='libvirt')
        guest, dom = self.design()
        self.assertEqual('qemu', dom.get('type'))
        self.assertEqual('q35', dom.find('os/type').get('machine'))

    def test_emulator_from_conf(self):
        self.flags(emulator='/usr/bin/qemu-system-x86_64', group='libvirt')
        guest, dom = self.design()
        self.assertEqual('/usr/bin/qemu-system-x86_64',
                         dom.find('devices/emulator').text)

    def test_arch_from_host_caps(self):
        guest, dom = self.design(host_caps={'arch': 'i686'})
        self.assertEqual('i686', dom.find('os/type').get('arch'))

    def test_boot_menu(self):
        guest, dom = self.design(utils.make_spec(boot_menu=True))
        self.assertEqual({'enable': 'yes'}, dom.find('os/bootmenu').attrib)
        guest, dom = self.design(utils.make_spec(boot_menu=False))
        self.assertIsNone(dom.find('os/bootmenu'))
        self.assertIsNone(dom.find('os/boot'))

    def test_features_and_lifecycle(self):
        guest, dom = self.design()
        self.assertEqual(['acpi', 'apic'],
                         [f.tag for f in dom.find('features')])
        self.assertEqual(('destroy', 'restart', 'destroy'),
                         (dom.find('on_poweroff').text,
                          dom.find('on_reboot').text,
                          dom.find('on_crash').text))

    def test_video(self):
        for model in ('none', 'vga', 'cirrus', 'virtio'):
            guest, dom = self.design(utils.make_spec(video=model))
            video, = dom.findall('devices/video')
            self.assertEqual({'type': model}, video.find('model').attrib)

    def test_vnc(self):
        spec = utils.make_spec(video='vga', graphics={'type': 'vnc',
                                                      'listen': '0.0.0.0'})
        guest, dom = self.design(spec)
        graphics, = dom.findall('devices/graphics')
        self.assertEqual({'type': 'vnc', 'autoport': 'yes'},
                         graphics.attrib)
        self.assertEqual({'type': 'address', 'address': '0.0.0.0'},
                         graphics.find('listen').attrib)

    def test_vnc_default_listen(self):
        # The default is the schema's; the designer renders it.
        spec = schema.validate_spec(dict(utils.make_spec().to_dict(),
                                         graphics={'type': 'vnc'}),
                                    self.conf)
        guest, dom = self.design(spec)
        self.assertEqual('127.0.0.1',
                         dom.find('devices/graphics/listen').get('address'))

    def test_no_graphics(self):
        guest, dom = self.design()
        self.assertEqual([], dom.findall('devices/graphics'))

    def test_no_balloon(self):
        guest, dom = self.design()
        balloon, = dom.findall('devices/memballoon')
        self.assertEqual({'model': 'none'}, balloon.attrib)

    def test_spec_and_plan_not_modified(self):
        spec = utils.make_spec(
            disks=[utils.make_disk(boot_index=1, iotune={
                'total_iops_sec': 5})],
            nics=[utils.make_nic()])
        plan = utils.plan_for(spec)
        spec_before = copy.deepcopy(spec)
        plan_before = copy.deepcopy(plan)
        self.design(spec, plan)
        self.assertEqual(spec_before, spec)
        self.assertEqual(plan_before, plan)


class TestNics(designer_base.DesignerTestCase):

    def _ifaces(self, dom):
        return dom.findall('devices/interface')

    def test_types(self):
        spec = utils.make_spec(nics=[
            utils.make_nic('user'),
            utils.make_nic('network', network='default', model='e1000'),
            utils.make_nic('bridge', bridge='br0', model='rtl8139')])
        guest, dom = self.design(spec)
        user, net, bridge = self._ifaces(dom)
        self.assertEqual('user', user.get('type'))
        self.assertIsNone(user.find('source'))
        self.assertEqual('virtio', user.find('model').get('type'))
        self.assertEqual({'network': 'default'}, net.find('source').attrib)
        self.assertEqual('e1000', net.find('model').get('type'))
        self.assertEqual({'bridge': 'br0'}, bridge.find('source').attrib)
        self.assertEqual('rtl8139', bridge.find('model').get('type'))

    def test_mac_assigned(self):
        spec = utils.make_spec(nics=[utils.make_nic(), utils.make_nic()])
        guest, dom = self.design(spec)
        macs = [i.find('mac').get('address') for i in self._ifaces(dom)]
        for mac in macs:
            self.assertTrue(MAC_RE.match(mac), mac)
        self.assertEqual(2, len(set(macs)))
        self.assertEqual(macs, [n.mac for n in
                                designer.describe_nics(guest, spec)])

    def test_mac_given_is_kept(self):
        spec = utils.make_spec(nics=[
            utils.make_nic(mac='52:54:00:ab:cd:ef')])
        guest, dom = self.design(spec)
        self.assertEqual('52:54:00:ab:cd:ef',
                         self._ifaces(dom)[0].find('mac').get('address'))

    def test_assigned_mac_avoids_given_ones(self):
        spec = utils.make_spec(nics=[
            utils.make_nic(),
            utils.make_nic(mac='52:54:00:00:00:01')])
        guest, dom = self.design(spec, rand_bytes=utils.counter_bytes(1))
        self.assertEqual(
            ['52:54:00:00:00:02', '52:54:00:00:00:01'],
            [i.find('mac').get('address') for i in self._ifaces(dom)])

    def test_boot_order(self):
        spec = utils.make_spec(
            disks=[utils.make_disk(boot_index=2)],
            nics=[utils.make_nic(), utils.make_nic(boot_index=1)])
        guest, dom = self.design(spec)
        plain, booting = self._ifaces(dom)
        self.assertIsNone(plain.find('boot'))
        self.assertEqual({'order': '1'}, booting.find('boot').attrib)

    def test_describe_nics(self):
        spec = utils.make_spec(nics=[
            utils.make_nic('bridge', bridge='br0', mac='52:54:00:00:00:09',
                           boot_index=3)])
        guest, dom = self.design(spec)
        self.assertEqual(
            [{'type': 'bridge', 'network': None, 'bridge': 'br0',
              'model': 'virtio', 'mac': '52:54:00:00:00:09',
              'boot_index': 3}],
            [nic.to_dict() for nic in designer.describe_nics(guest, spec)])
