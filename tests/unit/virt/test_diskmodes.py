"""Tests of the cache and aio rules (computeagent.virt.diskmodes)."""

from computeagent.virt import diskmodes
from tests import base


class TestDiskModes(base.TestCase):

    def test_default_cache_follows_o_direct(self):
        self.assertEqual('none', diskmodes.default_cache(True))
        self.assertEqual('writethrough', diskmodes.default_cache(False))
        # An unknown probe result is treated as no O_DIRECT.
        self.assertEqual('writethrough', diskmodes.default_cache(None))

    def test_native_aio_needs_o_direct(self):
        self.assertEqual(
            ['none', 'directsync'],
            [mode for mode in diskmodes.CACHE_MODES
             if diskmodes.native_aio_allowed(mode)])
        self.assertFalse(diskmodes.native_aio_allowed(None))

    def test_default_aio_follows_the_cache_mode(self):
        self.assertEqual(
            {'none': 'native', 'directsync': 'native',
             'writethrough': 'threads', 'writeback': 'threads',
             'unsafe': 'threads'},
            {mode: diskmodes.default_aio(mode)
             for mode in diskmodes.CACHE_MODES})

    def test_default_aio_without_native_aio(self):
        self.assertEqual(
            {'threads'},
            {diskmodes.default_aio(mode, native=False)
             for mode in diskmodes.CACHE_MODES})
