"""Disk decisions: buses, cache/aio, IOThreads, iotune, boot order."""

import dataclasses

from computeagent import exception
from computeagent_libvirt.design import disks as disk_design
from computeagent_libvirt.design import guest as designer
from computeagent_libvirt.storage import instance as storage_mod
from tests.unit.drivers.libvirt.design import base as designer_base
from tests.unit.drivers.libvirt import utils


class TestParseCachemodes(designer_base.DesignerTestCase):

    def test_pairs(self):
        self.assertEqual(
            {'file': 'none', 'block': 'writeback', 'network': 'unsafe'},
            disk_design.parse_cachemodes(
                ['file=none', ' Block = WriteBack', 'network=unsafe']))

    def test_empty(self):
        self.assertEqual({}, disk_design.parse_cachemodes([]))

    def test_malformed(self):
        for entries, needle in ((['none'], 'type=mode'),
                                (['disk=none'], 'unknown disk type'),
                                (['file=fast'], 'unknown cache mode'),
                                (['file=none', 'file=unsafe'], 'twice')):
            e = self.assertRaises(ValueError,
                                  disk_design.parse_cachemodes, entries)
            self.assertIn(needle, str(e))

    def test_bad_option_is_a_driver_error(self):
        self.flags(cachemodes=['file:none'], group='disk')
        e = self.assertRaises(exception.DriverError, self.design)
        self.assertIn('[disk] cachemodes', str(e))


class TestCacheMode(designer_base.DesignerTestCase):

    def _cache(self, disk=None, plan_type=None, **kw):
        spec = utils.make_spec(disks=[disk or utils.make_disk()])
        plan = utils.plan_for(spec)
        if plan_type:
            plan['vda'] = dataclasses.replace(plan['vda'],
                                              source_type=plan_type)
        guest, dom = self.design(spec, plan, **kw)
        return self.driver_of(dom)['cache']

    def test_spec_wins_over_cachemodes_and_probe(self):
        self.flags(cachemodes=['file=writeback'], group='disk')
        self.assertEqual('unsafe', self._cache(utils.make_disk(
            cache='unsafe')))

    def test_cachemodes_win_over_probe(self):
        self.flags(cachemodes=['file=writeback'], group='disk')
        self.assertEqual('writeback', self._cache(direct_io=True))
        # The operator's choice stands even where O_DIRECT is missing.
        self.flags(cachemodes=['file=directsync'], group='disk')
        self.assertEqual('directsync', self._cache(direct_io=False))

    def test_cachemodes_by_source_type(self):
        self.flags(cachemodes=['block=directsync'], group='disk')
        self.assertEqual('directsync', self._cache(plan_type='block'))
        # No entry for file: the probe decides.
        self.assertEqual('none', self._cache(plan_type='file'))

    def test_probe(self):
        self.assertEqual('none', self._cache(direct_io=True))
        self.assertEqual('writethrough', self._cache(direct_io=False))

    def test_probe_not_run_falls_back_to_writethrough(self):
        self.assertEqual('writethrough', self._cache(direct_io=None))

    def test_spec_o_direct_mode_without_o_direct(self):
        for mode in ('none', 'directsync'):
            spec = utils.make_spec(disks=[utils.make_disk(cache=mode)])
            e = self.assertRaises(exception.InvalidSpec, self.design, spec,
                                  direct_io=False)
            self.assertEqual('disks[0].cache', e.field)
        # Unknown probe result: trust the spec.
        self.assertEqual('none', self._cache(utils.make_disk(cache='none'),
                                             direct_io=None))


class TestAio(designer_base.DesignerTestCase):

    def _driver(self, direct_io=True, **disk):
        spec = utils.make_spec(disks=[utils.make_disk(**disk)])
        return self.driver_of(self.design(spec, direct_io=direct_io)[1])

    def test_native_for_o_direct_modes(self):
        self.assertEqual('native', self._driver(cache='none')['io'])
        self.assertEqual('native', self._driver(cache='directsync')['io'])
        self.assertEqual('native', self._driver()['io'])

    def test_threads_otherwise(self):
        for mode in ('writethrough', 'writeback', 'unsafe'):
            self.assertEqual('threads', self._driver(cache=mode)['io'])
        self.assertEqual('threads', self._driver(direct_io=False)['io'])

    def test_spec_wins(self):
        self.assertEqual('threads',
                         self._driver(cache='none', aio='threads')['io'])
        self.assertEqual('io_uring',
                         self._driver(cache='writeback',
                                      aio='io_uring')['io'])
        self.assertEqual('native',
                         self._driver(cache='directsync',
                                      aio='native')['io'])

    def test_native_conflicts_with_cachemodes(self):
        self.flags(cachemodes=['file=writethrough'], group='disk')
        spec = utils.make_spec(disks=[utils.make_disk(aio='native')])
        e = self.assertRaises(exception.InvalidSpec, self.design, spec)
        self.assertEqual('disks[0].aio', e.field)
        self.assertIn('[disk] cachemodes', str(e))

    def test_native_conflicts_with_probe_fallback(self):
        spec = utils.make_spec(disks=[utils.make_disk(aio='native')])
        e = self.assertRaises(exception.InvalidSpec, self.design, spec,
                              direct_io=False)
        self.assertEqual('disks[0].aio', e.field)
        self.assertIn('O_DIRECT probe', str(e))


class TestBuses(designer_base.DesignerTestCase):

    def _buses(self, dom):
        return [(d.find('target').get('dev'), d.find('target').get('bus'))
                for d in self.disk_elems(dom)]

    def test_virtio_needs_no_controller(self):
        guest, dom = self.design()
        self.assertEqual([('vda', 'virtio')], self._buses(dom))
        self.assertEqual([], dom.findall('devices/controller'))

    def test_scsi_gets_one_virtio_scsi_controller(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(bus='scsi', target='sda', boot_index=1),
            utils.make_disk(bus='scsi', target='sdb'),
            utils.make_cdrom(bus='scsi', target='sdc')])
        guest, dom = self.design(spec)
        self.assertEqual([('sda', 'scsi'), ('sdb', 'scsi'), ('sdc', 'scsi')],
                         self._buses(dom))
        controllers = dom.findall('devices/controller')
        self.assertEqual(
            [{'type': 'scsi', 'index': '0', 'model': 'virtio-scsi'}],
            [c.attrib for c in controllers])

    def test_sata_and_ide_are_implicit(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(bus='sata', target='sda', boot_index=1),
            utils.make_cdrom(bus='ide', target='hda')])
        guest, dom = self.design(spec)
        self.assertEqual([('sda', 'sata'), ('hda', 'ide')], self._buses(dom))
        self.assertEqual([], dom.findall('devices/controller'))

    def test_q35_has_no_ide(self):
        self.flags(machine_type='pc-q35-7.2', group='libvirt')
        spec = utils.make_spec(disks=[
            utils.make_disk(boot_index=1),
            utils.make_cdrom(bus='ide', target='hda')])
        e = self.assertRaises(exception.InvalidSpec, self.design, spec)
        self.assertEqual('disks[1].bus', e.field)
        self.design(dataclasses.replace(spec, disks=(
            spec.disks[0],
            dataclasses.replace(spec.disks[1], bus='sata', target='sda'))))


class TestCdrom(designer_base.DesignerTestCase):

    def test_empty_cdrom_has_no_source(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(boot_index=1),
            utils.make_cdrom(source={'blank': True})])
        guest, dom = self.design(spec)
        cdrom = self.disk_elems(dom)[1]
        self.assertEqual('cdrom', cdrom.get('device'))
        self.assertIsNone(cdrom.find('source'))
        self.assertIsNone(cdrom.find('backingStore'))
        self.assertIsNotNone(cdrom.find('readonly'))

    def test_cdrom_is_readonly(self):
        spec = utils.make_spec(disks=[utils.make_cdrom(boot_index=1)])
        guest, dom = self.design(spec)
        cdrom = self.disk_elems(dom)[0]
        self.assertEqual('/srv/instances/%s/disk' % utils.UUID,
                         cdrom.find('source').get('file'))
        self.assertIsNotNone(cdrom.find('readonly'))

    def test_readonly_disk(self):
        spec = utils.make_spec(disks=[utils.make_disk(readonly=True)])
        guest, dom = self.design(spec)
        self.assertIsNotNone(self.disk_elems(dom)[0].find('readonly'))
        guest, dom = self.design()
        self.assertIsNone(self.disk_elems(dom)[0].find('readonly'))


class TestBootOrder(designer_base.DesignerTestCase):

    def test_per_device_boot_order(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(boot_index=2),
            utils.make_disk(target='vdb'),
            utils.make_cdrom(boot_index=1)])
        guest, dom = self.design(spec)
        self.assertEqual(
            ['2', None, '1'],
            [d.find('boot').get('order') if d.find('boot') is not None
             else None for d in self.disk_elems(dom)])
        # Never the old-style <os><boot dev=...>, libvirt refuses a mix.
        self.assertIsNone(dom.find('os/boot'))

    def test_libvirt_keeps_the_order(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(boot_index=5),
            utils.make_cdrom(boot_index=3)],
            nics=[utils.make_nic(boot_index=4)])
        plan = utils.plan_for(spec)
        guest = designer.design_guest(spec, plan, self.conf, direct_io=True)
        stored = self.libvirt.define_and_read_back(guest.to_xml())
        self.assertEqual(
            ['5', '3', '4'],
            [e.find('boot').get('order') for e in
             stored.findall('devices/disk') +
             stored.findall('devices/interface')])


class TestDiskDetails(designer_base.DesignerTestCase):

    def test_iothreads_numbered_in_disk_order(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(iothread=True, boot_index=1),
            utils.make_disk(target='vdb'),
            utils.make_disk(target='vdc', iothread=True),
            utils.make_disk(bus='scsi', target='sda')])
        guest, dom = self.design(spec)
        self.assertEqual('2', dom.find('iothreads').text)
        self.assertEqual(
            ['1', None, '2', None],
            [self.driver_of(dom, i).get('iothread') for i in range(4)])

    def test_no_iothreads(self):
        guest, dom = self.design()
        self.assertIsNone(dom.find('iothreads'))
        self.assertNotIn('iothread', self.driver_of(dom))

    def test_iotune(self):
        spec = utils.make_spec(disks=[utils.make_disk(iotune={
            'read_bytes_sec': 1048576, 'write_bytes_sec': 524288,
            'total_iops_sec': 0})])
        guest, dom = self.design(spec)
        iotune = self.disk_elems(dom)[0].find('iotune')
        self.assertEqual(
            [('read_bytes_sec', '1048576'), ('write_bytes_sec', '524288'),
             ('total_iops_sec', '0')],
            [(e.tag, e.text) for e in iotune])

    def test_no_iotune(self):
        guest, dom = self.design()
        self.assertIsNone(self.disk_elems(dom)[0].find('iotune'))

    def test_discard_and_serial(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(discard='unmap', serial='ABC_1-x',
                            boot_index=1),
            utils.make_disk(target='vdb')])
        guest, dom = self.design(spec)
        self.assertEqual('unmap', self.driver_of(dom, 0)['discard'])
        self.assertEqual('ignore', self.driver_of(dom, 1)['discard'])
        self.assertEqual('ABC_1-x', self.disk_elems(dom)[0].find(
            'serial').text)
        self.assertIsNone(self.disk_elems(dom)[1].find('serial'))

    def test_backing_chain_from_plan(self):
        spec = utils.make_spec(disks=[utils.make_disk(snapshot=True)])
        plan = {'vda': storage_mod.PlannedDisk(
            target='vda', device='disk', path='/i/overlay', format='qcow2',
            backing=[['/i/disk', 'qcow2'], ['/b/base', 'raw']],
            snapshot=True)}
        guest, dom = self.design(spec, plan)
        disk = self.disk_elems(dom)[0]
        self.assertEqual('/i/overlay', disk.find('source').get('file'))
        chain = []
        node = disk.find('backingStore')
        while node.get('type') is not None:
            chain.append((node.find('source').get('file'),
                          node.find('format').get('type')))
            node = node.find('backingStore')
        self.assertEqual([('/i/disk', 'qcow2'), ('/b/base', 'raw')], chain)
        self.assertEqual([], list(node))
        # The snapshot overlay is the storage layer's; no <transient/>.
        self.assertIsNone(disk.find('transient'))
        self.assertTrue(designer.describe_disks(guest)[0].snapshot)

    def test_snapshot_flag_from_plan_wins(self):
        spec = utils.make_spec(disks=[utils.make_disk(snapshot=True)])
        plan = utils.plan_for(spec)
        plan['vda'] = dataclasses.replace(plan['vda'], snapshot=False)
        guest, dom = self.design(spec, plan)
        self.assertFalse(designer.describe_disks(guest)[0].snapshot)

    def test_block_source(self):
        spec = utils.make_spec(disks=[utils.make_disk(format='raw')])
        plan = {'vda': storage_mod.PlannedDisk(
            target='vda', device='disk', path='/dev/vg/disk', format='raw',
            source_type='block')}
        guest, dom = self.design(spec, plan)
        disk = self.disk_elems(dom)[0]
        self.assertEqual('block', disk.get('type'))
        self.assertEqual('/dev/vg/disk', disk.find('source').get('dev'))

    def test_plan_must_cover_every_disk(self):
        spec = utils.make_spec(disks=[
            utils.make_disk(boot_index=1), utils.make_disk(target='vdb')])
        plan = utils.plan_for(spec)
        del plan['vdb']
        e = self.assertRaises(exception.DriverError, self.design, spec, plan)
        self.assertIn('vdb', str(e))

    def test_plan_needs_a_path_for_a_disk(self):
        spec = utils.make_spec()
        plan = {'vda': storage_mod.PlannedDisk(
            target='vda', device='disk', path=None, format='qcow2')}
        self.assertRaises(exception.DriverError, self.design, spec, plan)

    def test_describe_disks(self):
        self.flags(cachemodes=['file=writeback'], group='disk')
        spec = utils.make_spec(disks=[
            utils.make_disk(boot_index=2, cache='none'),
            utils.make_cdrom(source={'blank': True}, boot_index=1)])
        guest, dom = self.design(spec)
        self.assertEqual([
            {'target': 'vda', 'device': 'disk', 'bus': 'virtio',
             'path': '/srv/instances/%s/disk' % utils.UUID,
             'format': 'qcow2', 'boot_index': 2, 'cache': 'none',
             'aio': 'native', 'snapshot': False},
            {'target': 'sda', 'device': 'cdrom', 'bus': 'sata',
             'path': None, 'format': 'raw', 'boot_index': 1,
             'cache': 'writeback', 'aio': 'threads', 'snapshot': False},
        ], [disk.to_dict() for disk in designer.describe_disks(guest)])
