"""Tests of guests' MAC addresses (computeagent.virt.macs)."""

from computeagent.virt import macs
from tests import base
# counter_bytes, a deterministic rand_bytes: nothing of libvirt.
from tests.unit.drivers.libvirt import utils


class TestMacs(base.TestCase):

    def test_is_guest_mac(self):
        self.assertTrue(macs.is_guest_mac('52:54:00:ab:cd:ef'))
        for bad in ('52:54:00:AB:CD:EF', '52:54:01:ab:cd:ef',
                    '52-54-00-ab-cd-ef', '52:54:00:ab:cd:ef\n',
                    '52:54:00:ab:cd', ''):
            self.assertFalse(macs.is_guest_mac(bad), repr(bad))

    def test_generate(self):
        self.assertEqual('52:54:00:ab:cd:ef', macs.generate(
            rand_bytes=utils.counter_bytes(0xabcdef)))
        self.assertEqual('52:54:00:00:00:03', macs.generate(
            taken={'52:54:00:00:00:01', '52:54:00:00:00:02'},
            rand_bytes=utils.counter_bytes(1)))
        self.assertTrue(macs.is_guest_mac(macs.generate()))
