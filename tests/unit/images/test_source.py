"""The image-source contract's loader, through real entry points."""

import os
import sys

import fixtures

from computeagent import exception
from computeagent.images import source
from computeagent_images import directory
from tests import base

# Names of our own so the test neither needs the package installed nor
# collides with its entry points when it is.
_ENTRY_POINTS = """[computeagent.image_sources]
test-directory = computeagent_images.directory:DirectoryImageSource
test-http = computeagent_images.http:HttpImageSource
test-broken = computeagent_images.no_such_module:Nothing
"""


class TestLoader(base.TestCase):

    def setUp(self):
        super().setUp()
        site = os.path.join(self.tmp, 'site')
        dist = os.path.join(site, 'computeagent_test_sources-0.0.dist-info')
        os.makedirs(dist)
        with open(os.path.join(dist, 'METADATA'), 'w') as f:
            f.write('Metadata-Version: 2.1\nName: computeagent-test-sources'
                    '\nVersion: 0.0\n')
        with open(os.path.join(dist, 'entry_points.txt'), 'w') as f:
            f.write(_ENTRY_POINTS)
        self.useFixture(fixtures.MonkeyPatch('sys.path',
                                             [site] + sys.path))
        # stevedore remembers a namespace's entry points for the life of
        # the process; start from none so ours are seen whatever ran
        # before.
        self.useFixture(fixtures.MonkeyPatch(
            'stevedore.extension.ExtensionManager.ENTRY_POINT_CACHE', {}))

    def test_loads_the_configured_source(self):
        self.flags(source='test-directory', group='image')
        loaded = source.load_image_source(self.conf)
        self.assertIsInstance(loaded, directory.DirectoryImageSource)
        self.assertIs(self.conf, loaded.conf)

    def test_unknown_source_lists_the_installed(self):
        self.flags(source='nope', group='image')
        error = self.assertRaises(exception.DriverLoadError,
                                  source.load_image_source, self.conf)
        self.assertIn("'nope'", str(error))
        self.assertIn('test-directory', str(error))

    def test_broken_source(self):
        self.flags(source='test-broken', group='image')
        error = self.assertRaises(exception.DriverLoadError,
                                  source.load_image_source, self.conf)
        self.assertIn('no_such_module', str(error))

    def test_http_source_without_a_base_url_is_a_start_up_error(self):
        self.flags(source='test-http', group='image')
        error = self.assertRaises(exception.DriverLoadError,
                                  source.load_image_source, self.conf)
        self.assertIn('http_base_url', str(error))


class TestDeclaredFormat(base.TestCase):

    def test_extensions(self):
        cases = {'a.qcow2': 'qcow2', 'A.QCOW2': 'qcow2', 'x/a.raw': 'raw',
                 'cd.iso': 'raw', 'cirros.img': None, 'plain': None,
                 '': None, None: None}
        for name, fmt in cases.items():
            self.assertEqual(fmt, source.format_from_name(name), name)

    def test_identity_pattern(self):
        self.assertTrue(source.IDENTITY_RE.match('dir-' + 'a' * 64))
        for bad in ('', '.hidden', 'a/b', 'a.b', 'x' * 129, '-x'):
            self.assertIsNone(source.IDENTITY_RE.match(bad), bad)
