"""The Linux test guest (tests/linux_guest.py) is built as it claims.

Booting it is the functional tier's (tests/functional/test_linux_guest.py);
here: the build from Debian packages (tests/linux_guest_image.py), its
artefacts, the cache and its lock, and the parser of what the guest
prints.
"""

import gzip
import json
import os
import subprocess
import sys

from oslo_utils.imageutils import format_inspector

from tests import base
from tests import linux_guest
from tests import linux_guest_image

_NEWC_MAGIC = b'070701'


def cpio_members(data):
    """{name: bytes} of a newc cpio archive."""
    members = {}
    offset = 0
    while True:
        header = data[offset:offset + 110]
        if header[:6] != _NEWC_MAGIC:
            raise AssertionError('no newc header at %d' % offset)
        size = int(header[54:62], 16)
        name_size = int(header[94:102], 16)
        name_end = offset + 110 + name_size
        name = data[offset + 110:name_end - 1].decode()
        start = (name_end + 3) & ~3
        if name == 'TRAILER!!!':
            return members
        members[name] = data[start:start + size]
        offset = (start + size + 3) & ~3


class TestBuild(base.TestCase):

    def setUp(self):
        super().setUp()
        # The cache every test run on this machine uses: built once.
        self.guest = linux_guest_image.build()

    def test_boot_disk_is_a_bootable_fat16_superfloppy(self):
        with open(self.guest.disk, 'rb') as f:
            disk = f.read()
        self.assertEqual(linux_guest_image.DISK_MB * 1024 * 1024,
                         len(disk))
        self.assertEqual(b'FAT16   ', disk[54:62])
        self.assertEqual(b'\x55\xaa', disk[510:512])
        # syslinux --install put its loader there, and mcopy the rest.
        self.assertIn(b'LDLINUX SYS', disk)
        self.assertIn(b'SYSLINUX', disk[:512])
        self.assertIn(linux_guest.SYSLINUX_CFG.encode(), disk)
        with open(os.path.join(self.guest.directory, 'initrd.gz'),
                  'rb') as f:
            self.assertIn(f.read(), disk)
        # The agent accepts it as a safe raw image.
        inspector = format_inspector.detect_file_format(self.guest.disk)
        self.assertEqual('raw', str(inspector))
        inspector.safety_check()

    def test_initramfs_holds_busybox_the_modules_and_init(self):
        with gzip.open(os.path.join(self.guest.directory,
                                    'initrd.gz')) as f:
            members = cpio_members(f.read())
        self.assertEqual(linux_guest.INIT.encode(), members['init'])
        self.assertIn(b'BusyBox', members['bin/busybox'])
        for module in linux_guest.MODULES:
            ko = members['lib/modules/%s.ko' % module]
            self.assertEqual(b'\x7fELF', ko[:4])
            self.assertIn(('vermagic=%s ' % self.guest.manifest[
                'kernel_release']).encode(), ko)

    def test_manifest_names_the_packages(self):
        packages = self.guest.manifest['packages']
        self.assertEqual(set(linux_guest_image.PACKAGES),
                         set(packages) - {n for n in packages
                                          if n.startswith('linux-image-')})
        self.assertEqual(1, len([n for n in packages
                                 if n.startswith('linux-image-')]))
        self.assertEqual(os.path.basename(self.guest.directory),
                         'linux-guest-'
                         + linux_guest_image.recipe_key(packages))

    def test_concurrent_builds_make_one(self):
        cache = os.path.join(self.tmp, 'cache')
        debs = os.path.join(cache, 'debs')
        os.makedirs(debs)
        # The packages downloaded already: the build, not the download.
        shared = os.path.join(os.path.dirname(self.guest.directory), 'debs')
        for name in os.listdir(shared):
            os.link(os.path.join(shared, name), os.path.join(debs, name))
        code = ('import json, sys; from tests import linux_guest_image; '
                'print(json.dumps('
                'linux_guest_image.build(sys.argv[1]).disk))')
        top = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        workers = [subprocess.Popen([sys.executable, '-c', code, cache],
                                    cwd=top, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]
        results = [w.communicate(timeout=300) for w in workers]
        for worker, (_out, err) in zip(workers, results):
            self.assertEqual(0, worker.returncode, err)
        disks = {json.loads(out) for out, _err in results}
        self.assertEqual(1, len(disks))
        # One build, renamed into place; no temporary directory left.
        self.assertEqual(sorted(['debs', 'linux-guest.lock',
                                 os.path.basename(self.guest.directory)]),
                         sorted(os.listdir(cache)))
        with open(disks.pop(), 'rb') as new, \
                open(self.guest.disk, 'rb') as cached:
            self.assertEqual(cached.read(54), new.read(54))


class TestEvents(base.TestCase):

    def test_lines_are_parsed(self):
        output = ('SeaBIOS\r\n\x1b[2J\r\n'
                  'c\x1b[?7lCAGUEST DISK vda sectors=65536 serial=boot '
                  'ro=0 cache=write-back\r\n'
                  '[    1.0] virtio_blk: something\r\n'
                  'CAGUEST DISK vdb sectors=2048 serial= ro=1 '
                  'cache=write-through\r\n'
                  'CAGUEST READY\r\n'
                  'CAGUEST REMOVED vdb\r\n'
                  'CAGUEST ERROR module=evdev\r\n'
                  'CAGUEST POWER-BUTTON\r\n')
        E = linux_guest.Event
        self.assertEqual([
            E('DISK', 'vda', {'sectors': '65536', 'serial': 'boot',
                              'ro': '0', 'cache': 'write-back'}),
            E('DISK', 'vdb', {'sectors': '2048', 'serial': '', 'ro': '1',
                              'cache': 'write-through'}),
            E('READY', None, {}),
            E('REMOVED', 'vdb', {}),
            E('ERROR', None, {'module': 'evdev'}),
            E('POWER-BUTTON', None, {}),
        ], linux_guest.events(output))

    def test_written_marker_is_what_init_writes(self):
        self.assertIn("printf '%s-WRITTEN-BY %%s\\n' \"$serial\""
                      % linux_guest.PREFIX, linux_guest.INIT)
        self.assertEqual(b'CAGUEST-WRITTEN-BY write-1\n',
                         linux_guest.written_marker('write-1'))
