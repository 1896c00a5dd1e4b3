"""A filesystem filling up while the storage writes.

The image cache's fetch and the instance storage's disks: the write that
finds no room is ``InsufficientResources`` and leaves nothing behind. No
qemu-img runs here (its stderr is tests/unit's test_qemuimg, the real
thing tests/host's test_disk_full).
"""

import errno
import os

import fixtures

from computeagent import exception
from computeagent.images import source as source_mod
from computeagent.virt import diskspace
from computeagent_libvirt.storage import imagecache
from computeagent_libvirt.storage import instance as storage_mod
from computeagent_libvirt.storage import qemuimg
from tests import base
from tests.unit.drivers.libvirt import utils


def enospc(path):
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


class FillingSource(source_mod.ImageSource):
    """Writes part of an image, then calls ``failure(path)``, which raises."""

    name = 'filling'

    def __init__(self, conf, failure):
        super().__init__(conf)
        self.failure = failure

    def identity(self, ref):
        return 'key-' + ref.replace('.', '-')

    def fetch(self, ref, dest_path):
        with open(dest_path, 'wb') as f:
            f.write(b'part of the image')
        self.failure(dest_path)


def no_room(path):
    raise enospc(path)


def downloader_failure(path):
    """What the http source makes of its write's ENOSPC."""
    try:
        no_room(path)
    except OSError as error:
        raise exception.ImageNotFound(image='big.raw',
                                      reason='cannot download: %s' % error)


def not_found(path):
    raise exception.ImageNotFound(image='big.raw', reason='HTTP 404')


class TestImageCacheFull(base.TestCase):

    def cache(self, failure):
        return imagecache.ImageCache(self.conf,
                                     FillingSource(self.conf, failure))

    def assertNothingCached(self, cache):
        self.assertIsNone(cache.lookup('key-big-raw'))
        self.assertEqual([], [name for name in os.listdir(cache.base_dir)
                              if not name.startswith('.locks')])

    def test_a_fetch_that_fills_the_disk(self):
        cache = self.cache(no_room)
        error = self.assertRaises(exception.InsufficientResources, cache.get,
                                  'big.raw')
        self.assertIn('writing %s (image big.raw fetched into the cache)'
                      % cache.path_for('key-big-raw'), str(error))
        self.assertNothingCached(cache)

    def test_a_download_failure_that_comes_of_no_room(self):
        cache = self.cache(downloader_failure)
        self.assertRaises(exception.InsufficientResources, cache.get,
                          'big.raw')
        self.assertNothingCached(cache)

    def test_other_fetch_failures_are_unchanged(self):
        cache = self.cache(not_found)
        self.assertRaises(exception.ImageNotFound, cache.get, 'big.raw')
        self.assertNothingCached(cache)


class TestInstanceDisksFull(base.TestCase):

    def setUp(self):
        super().setUp()
        self.storage = storage_mod.InstanceStorage(
            self.conf, FillingSource(self.conf, no_room))
        self.dir = self.storage.instance_dir(utils.UUID)
        self.spec = utils.make_spec(disks=[
            utils.make_disk(source={'blank': True}, size_mb=1, format='raw'),
            utils.make_disk(source={'blank': True}, size_mb=8, target='vdb',
                            format='raw')])

    def fill_on(self, full_path):
        """qemu-img create writes part of ``full_path``, then no room."""
        made = []

        def create_blank(conf, path, fmt, size):
            with open(path, 'wb') as f:
                f.write(b'header')
            made.append(path)
            if path == full_path:
                raise diskspace.no_space(path, 'qemu-img create')
        self.useFixture(fixtures.MockPatchObject(
            qemuimg, 'create_blank', side_effect=create_blank))
        return made

    def test_a_disk_that_fills_the_disk_is_rolled_back(self):
        made = self.fill_on(os.path.join(self.dir, 'disk.vdb'))
        self.assertRaises(exception.InsufficientResources,
                          self.storage.create_disks, self.spec)
        self.assertEqual(2, len(made))
        self.assertFalse(os.path.exists(self.dir))

    def test_in_a_directory_of_the_record_only_its_files_go(self):
        # The record is written first, so the directory is the store's.
        self.make_instance_dir(utils.UUID, ['instance.json'])
        self.fill_on(os.path.join(self.dir, 'disk.vdb'))
        self.assertRaises(exception.InsufficientResources,
                          self.storage.create_disks, self.spec)
        self.assertEqual(['instance.json'], os.listdir(self.dir))

    def test_no_room_for_the_instance_directory(self):
        self.fill_on(None)
        real_mkdir = os.mkdir

        def mkdir(path, *args, **kwargs):
            if path == self.dir:
                raise enospc(path)
            return real_mkdir(path, *args, **kwargs)
        self.useFixture(fixtures.MockPatch('os.mkdir', side_effect=mkdir))
        error = self.assertRaises(exception.InsufficientResources,
                                  self.storage.create_disks, self.spec)
        self.assertIn('writing %s (the instance directory)' % self.dir,
                      str(error))
        self.assertFalse(os.path.exists(self.dir))
