"""Golden domain XML of full guests, each also defined on libvirt.

The files under golden/ are the reviewed output of the designer for the
specs below; a change to any decision shows up as a diff there. Every
golden file is defined on libvirt's test driver, and a deliberately bad
variant is refused by it, which proves the definition checks something.
"""

import os

import libvirt

from computeagent_libvirt.design import guest as designer
from computeagent_libvirt.storage import instance as storage_mod
from tests.unit.drivers.libvirt.design import base as designer_base
from tests.unit.drivers.libvirt import utils

GOLDEN_DIR = os.path.join(os.path.dirname(__file__), 'golden')
INSTANCES = '/var/lib/computeagent/instances'


def _minimal():
    spec = utils.make_spec(name='minimal')
    return spec, utils.plan_for(spec, INSTANCES), {}, {'direct_io': True}


def _full():
    spec = utils.make_spec(
        name='full <guest> & co', vcpus=2, memory_mb=512, boot_menu=True,
        video='vga', graphics={'type': 'vnc', 'listen': '127.0.0.1'},
        disks=[
            utils.make_disk(boot_index=2, iothread=True, discard='unmap',
                            serial='root-disk',
                            iotune={'total_bytes_sec': 10485760,
                                    'read_iops_sec': 400,
                                    'write_iops_sec': 200}),
            utils.make_disk(target='vdb', source={'blank': True},
                            format='raw', iothread=True, cache='writeback'),
            utils.make_disk(target='sda', bus='scsi', aio='io_uring'),
            utils.make_cdrom(target='sdb', boot_index=1),
            utils.make_cdrom(target='hda', bus='ide',
                             source={'blank': True}),
        ],
        serial_ports=[
            utils.make_serial('pty', log=True),
            utils.make_serial('unix', log=True),
            utils.make_serial('tcp', port=4555),
            utils.make_serial('null'),
        ],
        nics=[
            utils.make_nic('user', boot_index=3),
            utils.make_nic('network', network='default', model='e1000',
                           mac='52:54:00:12:34:56'),
            utils.make_nic('bridge', bridge='br0', model='rtl8139'),
        ])
    conf = {'libvirt': {'virt_type': 'qemu'},
            'disk': {'cachemodes': ['file=directsync']}}
    return (spec, utils.plan_for(spec, INSTANCES), conf,
            {'direct_io': True, 'rand_bytes': utils.counter_bytes(0x0a0b0c)})


def _snapshot_q35():
    spec = utils.make_spec(
        name='snapshot',
        disks=[utils.make_disk(snapshot=True, boot_index=1),
               utils.make_cdrom(target='sda')],
        serial_ports=[utils.make_serial('file'), utils.make_serial('file')])
    idir = '%s/%s' % (INSTANCES, utils.UUID)
    plan = utils.plan_for(spec, INSTANCES)
    # The storage layer's temporary overlay on the instance disk.
    plan['vda'] = storage_mod.PlannedDisk(
        target='vda', device='disk', path=idir + '/disk.snapshot',
        format='qcow2', backing=[(idir + '/disk', 'qcow2'),
                                 (INSTANCES + '/_base/cirros', 'raw')],
        snapshot=True)
    conf = {'libvirt': {'machine_type': 'q35'}}
    return spec, plan, conf, {'direct_io': False}


GUESTS = {'minimal': _minimal, 'full': _full, 'snapshot-q35': _snapshot_q35}


class TestGolden(designer_base.DesignerTestCase):

    def render(self, name):
        spec, plan, conf, kw = GUESTS[name]()
        self.flags(instances_path=INSTANCES)
        for group, values in conf.items():
            self.flags(group=group, **values)
        return designer.design_guest(spec, plan, self.conf, **kw).to_xml()

    def golden(self, name):
        with open(os.path.join(GOLDEN_DIR, name + '.xml')) as f:
            return f.read()

    def check(self, name):
        xml = self.render(name)
        self.assertEqual(utils.canonical(self.golden(name)),
                         utils.canonical(xml))
        self.libvirt.define(self.golden(name))

    def test_minimal(self):
        self.check('minimal')

    def test_full(self):
        self.check('full')

    def test_snapshot_q35(self):
        self.check('snapshot-q35')

    def test_duplicate_boot_order_refused(self):
        xml = self.golden('full').replace("<boot order='3'/>",
                                          "<boot order='1'/>")
        self.assertNotEqual(xml, self.golden('full'))
        e = self.assertRaises(libvirt.libvirtError, self.libvirt.define, xml)
        self.assertIn("boot order '1' used for more than one device", str(e))
        self.assertEqual([], self.libvirt.conn.listAllDomains())

    def test_os_boot_dev_mixed_with_boot_order_refused(self):
        xml = self.golden('minimal').replace(
            '</os>', "<boot dev='hd'/></os>")
        self.assertNotEqual(xml, self.golden('minimal'))
        self.assertRaises(libvirt.libvirtError, self.libvirt.define, xml)

    def test_libvirt_keeps_the_devices(self):
        stored = self.libvirt.define_and_read_back(self.golden('full'))
        self.assertEqual(
            ['vda', 'vdb', 'sda', 'sdb', 'hda'],
            [d.find('target').get('dev') for d in
             stored.findall('devices/disk')])
        self.assertEqual(
            ['2', None, None, '1', None, '3', None, None],
            [e.find('boot').get('order') if e.find('boot') is not None
             else None for e in stored.findall('devices/disk') +
             stored.findall('devices/interface')])
        self.assertEqual('2', stored.find('iothreads').text)
        self.assertEqual(4, len(stored.findall('devices/serial')))
