"""Real QEMU guests: disk cache modes, aio, IOThreads and buses.

Every setting is checked in the live domain XML of the running guest
(what libvirt gave QEMU), not in what the agent rendered; the guest
booting to its marker shows QEMU accepted the whole configuration.
"""

from tests.functional import libvirt_helpers as lh

CACHE_MODES = ('none', 'writethrough', 'writeback', 'directsync', 'unsafe')


class TestDisks(lh.LibvirtTestCase):

    shared_agent = True

    def _boot_disk(self, marker, **extra):
        disk = {'source': {'image': self.raw_image('boot.img', marker)},
                'boot_index': 1}
        disk.update(extra)
        return disk

    def _run(self, disks, marker, **extra):
        """Create the instance, wait for its marker, return (record, XML)."""
        spec = self.spec(disks, **extra)
        record = self.create(spec)
        lh.wait_for_console(self.agent, spec['uuid'], marker)
        return record, lh.dumpxml(spec['uuid'])

    def test_each_cache_mode_reaches_the_guest(self):
        marker = lh.new_marker('CACHE')
        disks = [self._boot_disk(marker, cache=CACHE_MODES[0])]
        disks += [{'source': {'blank': True}, 'size_mb': 1, 'cache': mode}
                  for mode in CACHE_MODES[1:]]
        record, domain = self._run(disks, marker)
        targets = [d['target'] for d in record['disks']]
        self.assertEqual(['vda', 'vdb', 'vdc', 'vdd', 'vde'], targets)
        for target, mode, disk in zip(targets, CACHE_MODES,
                                      record['disks']):
            driver = lh.find_disk(domain, target).find('driver')
            self.assertEqual(mode, driver.get('cache'), target)
            self.assertEqual(mode, disk['cache'])
            # aio chosen from the cache mode: native only with O_DIRECT.
            expected_aio = ('native' if mode in ('none', 'directsync')
                            else 'threads')
            self.assertEqual(expected_aio, disk['aio'], target)
            self.assertEqual(expected_aio, driver.get('io'), target)

    def test_each_aio_choice_reaches_the_guest(self):
        marker = lh.new_marker('AIO')
        disks = [self._boot_disk(marker, cache='none', aio='native'),
                 {'source': {'blank': True}, 'size_mb': 1,
                  'cache': 'writeback', 'aio': 'threads'},
                 # QEMU 7.2 on this kernel has io_uring (linked with
                 # liburing; kernel.io_uring_disabled is 0).
                 {'source': {'blank': True}, 'size_mb': 1,
                  'cache': 'none', 'aio': 'io_uring'},
                 {'source': {'blank': True}, 'size_mb': 1,
                  'cache': 'writethrough', 'aio': 'io_uring'}]
        record, domain = self._run(disks, marker)
        want = [('vda', 'none', 'native'), ('vdb', 'writeback', 'threads'),
                ('vdc', 'none', 'io_uring'),
                ('vdd', 'writethrough', 'io_uring')]
        got = []
        for target, _cache, _aio in want:
            driver = lh.find_disk(domain, target).find('driver')
            got.append((target, driver.get('cache'), driver.get('io')))
        self.assertEqual(want, got)
        self.assertEqual([w[2] for w in want],
                         [d['aio'] for d in record['disks']])

    def test_native_aio_with_a_caching_mode_is_refused(self):
        spec = self.spec([{'source': {'blank': True}, 'size_mb': 1,
                           'cache': 'writeback', 'aio': 'native'}])
        error = self.assertRemoteError('InvalidSpec', self.agent.call,
                                       'create_instance', spec=spec)
        self.assertIn('disks[0].aio', error.value)
        self.assertNothingLeft(spec['uuid'])

    def test_iothread_is_bound_to_the_disk_that_asked(self):
        marker = lh.new_marker('IOTHREAD')
        disks = [self._boot_disk(marker, iothread=True),
                 {'source': {'blank': True}, 'size_mb': 1},
                 {'source': {'blank': True}, 'size_mb': 1,
                  'iothread': True}]
        record, domain = self._run(disks, marker)
        self.assertEqual('2', domain.findtext('iothreads'))
        threads = {target: lh.find_disk(domain, target).find(
            'driver').get('iothread') for target in ('vda', 'vdb', 'vdc')}
        self.assertEqual({'vda': '1', 'vdb': None, 'vdc': '2'}, threads)
        # QEMU really runs them: virsh asks the running process.
        info = lh.virsh('iothreadinfo', record['uuid'])
        ids = sorted(line.split()[0] for line in info.splitlines()
                     if line.strip())
        self.assertEqual(['1', '2'], ids, info)

    def test_buses_appear_as_asked(self):
        marker = lh.new_marker('BUSES')
        disks = [self._boot_disk(marker),
                 {'source': {'blank': True}, 'size_mb': 1, 'bus': 'scsi'},
                 {'source': {'blank': True}, 'size_mb': 1, 'bus': 'sata'},
                 {'source': {'blank': True}, 'size_mb': 1, 'bus': 'ide'}]
        record, domain = self._run(disks, marker)
        self.assertEqual([('vda', 'virtio'), ('sda', 'scsi'),
                          ('sdb', 'sata'), ('hda', 'ide')],
                         [(d['target'], d['bus']) for d in record['disks']])
        for disk in record['disks']:
            elem = lh.find_disk(domain, disk['target'])
            self.assertEqual(disk['bus'], elem.find('target').get('bus'))
        scsi = [c.get('model') for c in domain.findall('devices/controller')
                if c.get('type') == 'scsi']
        self.assertEqual(['virtio-scsi'], scsi)
