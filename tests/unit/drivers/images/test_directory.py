"""DirectoryImageSource: confinement, identity, sparse copies."""

import os

from computeagent import exception
from computeagent_images import directory
from tests import base
from tests import images


class DirectoryTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.conf.image.directory
        os.makedirs(self.dir)
        self.source = directory.DirectoryImageSource(self.conf)
        self.image = images.write_raw_image(
            os.path.join(self.dir, 'boot.raw'), b'B', size_mb=8)


class TestResolve(DirectoryTestCase):

    def _refused(self, ref):
        self.assertRaises(exception.ImageNotFound, self.source.identity, ref)
        self.assertRaises(exception.ImageNotFound, self.source.fetch, ref,
                          os.path.join(self.tmp, 'out'))
        self.assertFalse(os.path.exists(os.path.join(self.tmp, 'out')))

    def test_missing(self):
        self._refused('nope.raw')

    def test_absolute_and_dotdot(self):
        outside = os.path.join(self.tmp, 'outside.raw')
        images.write_raw_image(outside, b'O')
        for ref in (outside, '/etc/passwd', '../outside.raw',
                    'sub/../../outside.raw', 'sub/../boot.raw', '..'):
            self._refused(ref)

    def test_not_a_name(self):
        for ref in ('', '   ', None, 42, 'a\0b', '.'):
            self._refused(ref)

    def test_symlink_escaping_is_refused(self):
        os.symlink('/etc/passwd', os.path.join(self.dir, 'passwd.raw'))
        self._refused('passwd.raw')
        os.mkdir(os.path.join(self.tmp, 'elsewhere'))
        os.symlink(os.path.join(self.tmp, 'elsewhere'),
                   os.path.join(self.dir, 'link'))
        images.write_raw_image(os.path.join(self.tmp, 'elsewhere', 'x.raw'),
                               b'X')
        self._refused('link/x.raw')

    def test_symlink_inside_is_followed(self):
        os.symlink('boot.raw', os.path.join(self.dir, 'alias.raw'))
        self.assertEqual(self.source.identity('boot.raw'),
                         self.source.identity('alias.raw'))

    def test_subdirectory(self):
        # Any file will do: the source names files, it does not read them
        # (and a real ISO would need xorriso).
        os.mkdir(os.path.join(self.dir, 'isos'))
        images.write_raw_image(os.path.join(self.dir, 'isos', 'c.iso'), b'C')
        self.assertTrue(self.source.identity('isos/c.iso'))

    def test_directory_is_not_an_image(self):
        os.mkdir(os.path.join(self.dir, 'isos'))
        self._refused('isos')


class TestIdentity(DirectoryTestCase):

    def test_stable_and_well_formed(self):
        key = self.source.identity('boot.raw')
        self.assertEqual(key, self.source.identity('boot.raw'))
        self.assertTrue(key.startswith('dir-'))
        self.assertRegex(key, '^dir-[0-9a-f]{64}$')

    def test_replaced_file_has_a_new_identity(self):
        before = self.source.identity('boot.raw')
        new = images.write_raw_image(os.path.join(self.dir, 'new'), b'N',
                                     size_mb=8)
        os.rename(new, self.image)
        self.assertNotEqual(before, self.source.identity('boot.raw'))

    def test_modified_time_changes_identity(self):
        before = self.source.identity('boot.raw')
        st = os.stat(self.image)
        os.utime(self.image, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
        self.assertNotEqual(before, self.source.identity('boot.raw'))

    def test_different_files_differ(self):
        images.write_raw_image(os.path.join(self.dir, 'b2.raw'), b'B',
                               size_mb=8)
        self.assertNotEqual(self.source.identity('boot.raw'),
                            self.source.identity('b2.raw'))


class TestFetch(DirectoryTestCase):

    def test_copy_is_exact_and_sparse(self):
        with open(self.image, 'r+b') as f:
            f.seek(5 * images.MIB)
            f.write(b'data in the middle')
        dest = os.path.join(self.tmp, 'copy')
        self.source.fetch('boot.raw', dest)
        with open(self.image, 'rb') as a, open(dest, 'rb') as b:
            self.assertEqual(a.read(), b.read())
        # 8 MiB with two small data regions: holes stayed holes.
        self.assertLess(os.stat(dest).st_blocks * 512, 1 * images.MIB)

    def test_zero_blocks_are_not_written(self):
        dense = os.path.join(self.dir, 'dense.raw')
        with open(dense, 'wb') as f:
            f.write(images.make_boot_sector(b'D'))
            f.write(bytes(4 * images.MIB))
        self.assertGreater(os.stat(dense).st_blocks * 512, 4 * images.MIB)
        dest = os.path.join(self.tmp, 'copy')
        self.source.fetch('dense.raw', dest)
        self.assertEqual(os.path.getsize(dense), os.path.getsize(dest))
        # Only the block holding the boot sector is written.
        self.assertLessEqual(os.stat(dest).st_blocks * 512, 128 * 1024)

    def test_never_overwrites(self):
        dest = os.path.join(self.tmp, 'copy')
        with open(dest, 'w') as f:
            f.write('mine')
        self.assertRaises(FileExistsError, self.source.fetch, 'boot.raw',
                          dest)
        with open(dest) as f:
            self.assertEqual('mine', f.read())

    def test_too_large(self):
        self.flags(max_image_size_mb=7, group='image')
        dest = os.path.join(self.tmp, 'copy')
        error = self.assertRaises(exception.ImageUnsafe, self.source.fetch,
                                  'boot.raw', dest)
        self.assertIn('max_image_size_mb', str(error))
        self.assertFalse(os.path.exists(dest))

    def test_declared_format(self):
        self.assertEqual('raw', self.source.declared_format('boot.raw'))
        self.assertEqual('qcow2', self.source.declared_format('x.qcow2'))
        self.assertIsNone(self.source.declared_format('cirros.img'))
