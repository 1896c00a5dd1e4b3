"""The guest of API 1.3's media: floppies, host cdroms, letter boot order.

Every guest is defined on libvirt's test driver, whose parser is the
real one (tests.unit.drivers.libvirt.design.base).
"""

from computeagent import exception
from computeagent_libvirt.design import guest as designer
from tests.unit.drivers.libvirt.design import base as designer_base
from tests.unit.drivers.libvirt import utils


def boot_orders(elements):
    return [e.find('boot').get('order') if e.find('boot') is not None
            else None for e in elements]


class TestFloppy(designer_base.DesignerTestCase):

    def test_floppy_drive(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(),
            utils.make_floppy(boot_index=1),
            utils.make_floppy(target='fdb', source={'blank': True},
                              readonly=True)])
        guest, dom = self.design(spec)
        first, second = self.disk_elems(dom)[1:]
        self.assertEqual({'type': 'file', 'device': 'floppy'},
                         first.attrib)
        self.assertEqual({'dev': 'fda', 'bus': 'fdc'},
                         first.find('target').attrib)
        self.assertEqual('raw', first.find('driver').get('type'))
        self.assertEqual('/srv/instances/%s/disk.fda' % utils.UUID,
                         first.find('source').get('file'))
        self.assertEqual('1', first.find('boot').get('order'))
        self.assertEqual('fdb', second.find('target').get('dev'))
        self.assertIsNotNone(second.find('readonly'))
        self.assertEqual(
            ['floppy', 'floppy'],
            [d.device for d in designer.describe_disks(guest)[1:]])

    def test_libvirt_keeps_the_floppy(self):
        spec = utils.make_spec(disks=[utils.make_disk(),
                                      utils.make_floppy(boot_index=1)])
        guest = designer.design_guest(spec, utils.plan_for(spec), self.conf,
                                      direct_io=True)
        stored = self.libvirt.define_and_read_back(guest.to_xml())
        floppy = stored.findall('devices/disk')[1]
        self.assertEqual(('floppy', 'fda', 'fdc', '1'), (
            floppy.get('device'), floppy.find('target').get('dev'),
            floppy.find('target').get('bus'),
            floppy.find('boot').get('order')))

    def test_no_floppy_controller_on_q35(self):
        self.flags(machine_type='q35', group='libvirt')
        spec = utils.make_spec(disks=[utils.make_disk(),
                                      utils.make_floppy()])
        error = self.assertRaises(exception.InvalidSpec, self.design, spec)
        self.assertEqual('disks[1].bus', error.field)
        self.assertIn('FDC', str(error))


class TestHostCdrom(designer_base.DesignerTestCase):

    def setUp(self):
        super().setUp()
        self.flags(host_cdrom_devices=['/dev/sr0'], group='disk')

    def test_block_device_source(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(),
            utils.make_cdrom(source={'host_device': '/dev/sr0'},
                             boot_index=1)])
        guest, dom = self.design(spec)
        cdrom = self.disk_elems(dom)[1]
        self.assertEqual({'type': 'block', 'device': 'cdrom'}, cdrom.attrib)
        self.assertEqual({'dev': '/dev/sr0'}, cdrom.find('source').attrib)
        self.assertEqual('raw', cdrom.find('driver').get('type'))
        self.assertIsNotNone(cdrom.find('readonly'))
        # An empty chain: the host's drive is all the guest reads, and
        # libvirt is told not to probe it for a backing file.
        self.assertEqual(0, len(cdrom.find('backingStore')))
        record = designer.describe_disks(guest)[1]
        self.assertEqual(('cdrom', '/dev/sr0', 'raw'),
                         (record.device, record.path, record.format))

    def test_block_cache_mode_from_cachemodes(self):
        self.flags(cachemodes=['block=writethrough'], group='disk')
        spec = utils.make_spec(disks=[
            utils.make_disk(),
            utils.make_cdrom(source={'host_device': '/dev/sr0'})])
        guest, dom = self.design(spec)
        self.assertEqual('writethrough', self.driver_of(dom, 1)['cache'])


class TestLetterBootOrder(designer_base.DesignerTestCase):

    def spec(self, letters):
        return utils.make_spec(
            boot_order=letters,
            disks=[utils.make_disk(), utils.make_floppy(),
                   utils.make_cdrom(), utils.make_disk(target='vdb')],
            nics=[utils.make_nic()])

    def test_letters_become_device_boot_orders(self):
        guest, dom = self.design(self.spec('dcna'))
        self.assertEqual(['2', '5', '1', '3'],
                         boot_orders(self.disk_elems(dom)))
        self.assertEqual(['4'], boot_orders(dom.findall('devices/interface')))
        # Never <os><boot dev=...>, which libvirt refuses beside these.
        self.assertIsNone(dom.find('os/boot'))

    def test_devices_of_no_letter_do_not_boot(self):
        guest, dom = self.design(self.spec('c'))
        self.assertEqual(['1', None, None, '2'],
                         boot_orders(self.disk_elems(dom)))
        self.assertEqual([None], boot_orders(dom.findall('devices/interface')))

    def test_records_carry_the_indexes_the_spec_keeps_its_letters(self):
        spec = self.spec('dc')
        guest, dom = self.design(spec)
        self.assertEqual([2, None, 1, 3], [
            d.boot_index for d in designer.describe_disks(guest)])
        # The nics that go back into the stored spec keep no boot index.
        self.assertEqual([None], [n.boot_index for n in
                                  designer.describe_nics(guest, spec)])

    def test_libvirt_keeps_the_order(self):
        spec = self.spec('ndc')
        guest = designer.design_guest(spec, utils.plan_for(spec), self.conf,
                                      direct_io=True)
        stored = self.libvirt.define_and_read_back(guest.to_xml())
        disks = stored.findall('devices/disk')
        # libvirt lists the disks in its own order: read them by target.
        self.assertEqual(
            {'vda': '3', 'fda': None, 'sda': '2', 'vdb': '4'},
            dict(zip([d.find('target').get('dev') for d in disks],
                     boot_orders(disks))))
        self.assertEqual(['1'],
                         boot_orders(stored.findall('devices/interface')))
