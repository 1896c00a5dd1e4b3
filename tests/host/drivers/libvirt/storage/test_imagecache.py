"""The _base cache: fetch once, inspect, atomic, clean on failure."""

import json
import multiprocessing
import os
import subprocess
import threading
import time

from computeagent import exception
from computeagent_images import directory
from computeagent_libvirt.storage import imagecache
from tests import base
from tests import images


class CountingSource(directory.DirectoryImageSource):
    """The directory source, counting fetches (also across processes)."""

    def __init__(self, conf, log_path):
        super().__init__(conf)
        self.log_path = log_path

    def fetch(self, ref, dest_path):
        with open(self.log_path, 'a') as log:
            log.write('%d %s\n' % (os.getpid(), ref))
        super().fetch(ref, dest_path)

    def fetches(self):
        try:
            with open(self.log_path) as log:
                return log.read().splitlines()
        except FileNotFoundError:
            return []


class BrokenSource(directory.DirectoryImageSource):
    """Writes half an image, then fails."""

    def fetch(self, ref, dest_path):
        with open(dest_path, 'wb') as f:
            f.write(b'partial')
        raise exception.ImageNotFound(image=ref, reason='connection reset')


class ShiftySource(directory.DirectoryImageSource):
    """An image that changes while it is being fetched."""

    def fetch(self, ref, dest_path):
        super().fetch(ref, dest_path)
        path = os.path.join(self.directory, ref)
        st = os.stat(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def _fetch_in_child(conf, log_path, ref, barrier):
    # Runs in a forked process with its own cache object: only the
    # external (file) lock can keep it from fetching a second time.
    cache = imagecache.ImageCache(conf, CountingSource(conf, log_path))
    barrier.wait(timeout=60)
    cache.get(ref)


class CacheTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.images = self.conf.image.directory
        os.makedirs(self.images)
        images.write_raw_image(self.image_path('boot.raw'), b'B', 2)
        images.write_qcow2_image(self.image_path('disk.qcow2'), b'Q')
        self.source = CountingSource(self.conf,
                                     os.path.join(self.tmp, 'fetches'))
        self.cache = imagecache.ImageCache(self.conf, self.source)

    def image_path(self, name):
        return os.path.join(self.images, name)

    def base_listing(self):
        """Files of _base, lock directory aside."""
        try:
            names = os.listdir(self.cache.base_dir)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n != '.locks')


class TestGet(CacheTestCase):

    def test_fetch_inspect_and_record(self):
        entry = self.cache.get('boot.raw')
        key = self.source.identity('boot.raw')
        self.assertEqual(imagecache.CachedImage(
            key=key, path=os.path.join(self.cache.base_dir, key),
            format='raw', virtual_size=2 * images.MIB), entry)
        self.assertEqual([key, key + '.json'], self.base_listing())
        with open(entry.path, 'rb') as a, \
                open(self.image_path('boot.raw'), 'rb') as b:
            self.assertEqual(b.read(), a.read())
        with open(entry.path + '.json') as f:
            meta = json.load(f)
        self.assertEqual(('raw', 'gpt', 'boot.raw'),
                         (meta['format'], meta['detected'], meta['ref']))
        self.assertEqual(0o644, os.stat(entry.path).st_mode & 0o777)
        self.assertEqual(0o755, os.stat(self.cache.base_dir).st_mode & 0o777)

    def test_qcow2_base(self):
        entry = self.cache.get('disk.qcow2')
        self.assertEqual(('qcow2', images.MIB),
                         (entry.format, entry.virtual_size))

    def test_fetched_once(self):
        first = self.cache.get('boot.raw')
        self.assertEqual(first, self.cache.get('boot.raw'))
        other = imagecache.ImageCache(self.conf, self.source)
        self.assertEqual(first, other.get('boot.raw'))
        self.assertEqual(1, len(self.source.fetches()))

    def test_changed_image_is_fetched_again(self):
        first = self.cache.get('boot.raw')
        new = images.write_raw_image(self.image_path('new'), b'N', 3)
        os.rename(new, self.image_path('boot.raw'))
        second = self.cache.get('boot.raw')
        self.assertNotEqual(first.key, second.key)
        self.assertEqual(3 * images.MIB, second.virtual_size)
        self.assertEqual(2, len(self.source.fetches()))

    def test_missing(self):
        self.assertRaises(exception.ImageNotFound, self.cache.get,
                          'nope.raw')
        self.assertEqual([], self.base_listing())

    def test_unsafe_image_leaves_nothing(self):
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2',
                        '-b', '/etc/passwd', '-F', 'raw',
                        self.image_path('evil.qcow2')], check=True)
        error = self.assertRaises(exception.ImageUnsafe, self.cache.get,
                                  'evil.qcow2')
        self.assertIn('backing', str(error))
        self.assertEqual([], self.base_listing())
        self.assertIsNone(self.cache.lookup(
            self.source.identity('evil.qcow2')))

    def test_declared_mismatch_leaves_nothing(self):
        os.rename(self.image_path('disk.qcow2'),
                  self.image_path('liar.raw'))
        self.assertRaises(exception.ImageUnsafe, self.cache.get, 'liar.raw')
        self.assertEqual([], self.base_listing())

    def test_declared_mismatch_with_a_cached_entry(self):
        # Two names, one file, one identity: the cached qcow2 must not be
        # handed out for a name that declares raw.
        os.symlink('disk.qcow2', self.image_path('alias.raw'))
        self.cache.get('disk.qcow2')
        self.assertRaises(exception.ImageUnsafe, self.cache.get,
                          'alias.raw')
        self.assertRaises(exception.ImageUnsafe, self.cache.peek,
                          'alias.raw')

    def test_failed_fetch_leaves_nothing(self):
        cache = imagecache.ImageCache(self.conf, BrokenSource(self.conf))
        self.assertRaises(exception.ImageNotFound, cache.get, 'boot.raw')
        self.assertEqual([], self.base_listing())

    def test_image_changing_during_fetch(self):
        cache = imagecache.ImageCache(self.conf, ShiftySource(self.conf))
        error = self.assertRaises(exception.ImageNotFound, cache.get,
                                  'boot.raw')
        self.assertIn('changed while it was fetched', str(error))
        self.assertEqual([], self.base_listing())

    def test_bad_identity_from_a_source(self):
        self.source.identity = lambda ref: '../../etc'
        self.assertRaises(exception.DriverError, self.cache.get, 'boot.raw')
        self.assertEqual([], self.base_listing())

    def test_entry_without_metadata_is_not_an_entry(self):
        entry = self.cache.get('boot.raw')
        os.unlink(entry.path + '.json')
        self.assertIsNone(self.cache.lookup(entry.key))
        self.assertEqual(entry, self.cache.get('boot.raw'))
        self.assertEqual(2, len(self.source.fetches()))

    def test_peek_does_not_fetch_or_write(self):
        guess = self.cache.peek('boot.raw')
        self.assertFalse(guess.cached)
        self.assertFalse(os.path.exists(self.cache.base_dir))
        self.assertEqual([], self.source.fetches())
        entry = self.cache.get('boot.raw')
        # Inspected where it lies: the same answer the fetch gives.
        self.assertEqual((entry.path, entry.format, entry.virtual_size),
                         (guess.path, guess.format, guess.virtual_size))
        self.assertEqual(entry, self.cache.peek('boot.raw'))

    def test_peek_undeclared_format(self):
        os.rename(self.image_path('disk.qcow2'),
                  self.image_path('cirros.img'))
        # No extension to declare it: inspection in place finds it.
        self.assertEqual('qcow2', self.cache.peek('cirros.img').format)
        self.assertEqual([], self.source.fetches())
        self.assertEqual('qcow2', self.cache.get('cirros.img').format)
        self.assertEqual('qcow2', self.cache.peek('cirros.img').format)


class TestConcurrency(CacheTestCase):

    def test_threads_fetch_once(self):
        barrier = threading.Barrier(8)
        results, errors = [], []

        def worker():
            try:
                barrier.wait(timeout=60)
                results.append(self.cache.get('boot.raw'))
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], errors)
        self.assertEqual(8, len(results))
        self.assertEqual(1, len(set(results)))
        self.assertEqual(1, len(self.source.fetches()))

    def test_processes_fetch_once(self):
        context = multiprocessing.get_context('fork')
        barrier = context.Barrier(4)
        children = [context.Process(target=_fetch_in_child,
                                    args=(self.conf, self.source.log_path,
                                          'boot.raw', barrier))
                    for _ in range(4)]
        for child in children:
            child.start()
        for child in children:
            child.join(60)
        self.assertEqual([0] * 4, [child.exitcode for child in children])
        fetches = self.source.fetches()
        self.assertEqual(1, len(fetches), fetches)
        self.assertIsNotNone(self.cache.lookup(
            self.source.identity('boot.raw')))

    def test_lock_files_under_base(self):
        key = self.cache.get('boot.raw').key
        locks = os.listdir(os.path.join(self.cache.base_dir, '.locks'))
        self.assertEqual(['computeagent-base-' + key], locks)

    def test_configured_lock_path(self):
        lock_path = os.path.join(self.tmp, 'locks')
        self.flags(lock_path=lock_path, group='oslo_concurrency')
        key = self.cache.get('boot.raw').key
        self.assertEqual(['computeagent-base-' + key], os.listdir(lock_path))
        self.assertFalse(os.path.exists(
            os.path.join(self.cache.base_dir, '.locks')))


class TestCleanup(CacheTestCase):

    def test_list_and_remove_unused(self):
        raw = self.cache.get('boot.raw')
        qcow2 = self.cache.get('disk.qcow2')
        self.assertEqual({raw.key: raw, qcow2.key: qcow2},
                         self.cache.list_entries())
        self.assertEqual([qcow2.key], self.cache.remove_unused({raw.key}))
        self.assertEqual({raw.key: raw}, self.cache.list_entries())
        self.assertEqual([raw.key, raw.key + '.json'], self.base_listing())
        self.assertEqual([raw.key], self.cache.remove_unused(set()))
        self.assertEqual([], self.base_listing())
        self.assertEqual([], self.cache.remove_unused(set()))

    def test_recently_fetched_or_used_bases_are_kept(self):
        raw = self.cache.get('boot.raw')
        qcow2 = self.cache.get('disk.qcow2')
        day = 86400
        # Both fetched just now: neither has been unused for a day.
        self.assertEqual([], self.cache.remove_unused(set(), min_age=day))
        old = time.time() - 2 * day
        for key in (raw.key, qcow2.key):
            os.utime(self.cache.path_for(key) + '.json', (old, old))
        # Used now: kept for another day, though unused from now on.
        self.cache.mark_used({raw.key, 'dir-' + '7' * 64})
        self.assertEqual([qcow2.key],
                         self.cache.remove_unused(set(), min_age=day))
        self.assertEqual({raw.key: raw}, self.cache.list_entries())

    def test_leftovers_of_a_crash_are_removed(self):
        raw = self.cache.get('boot.raw')
        base_dir = self.cache.base_dir
        stale = ['.tmp-%s-0123abcd' % raw.key,
                 '.tmp-%s-0123abcd.json' % raw.key,
                 '.tmp-dir-%s-feed' % ('9' * 64),
                 'dir-%s.json' % ('8' * 64)]
        for name in stale:
            with open(os.path.join(base_dir, name), 'w') as f:
                f.write('x')
        self.assertEqual([], self.cache.remove_unused({raw.key}))
        self.assertEqual([raw.key, raw.key + '.json'], self.base_listing())

    def test_empty_cache(self):
        self.assertEqual({}, self.cache.list_entries())
        self.assertEqual([], self.cache.remove_unused(set()))
