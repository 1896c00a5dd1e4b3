"""The letter boot order's translation into per-device boot indexes."""

from computeagent.virt import bootorder
from tests import base
from tests.unit.drivers.libvirt import utils

DISK_A = utils.make_disk()
DISK_B = utils.make_disk(target='vdb')
CDROM = utils.make_cdrom()
FLOPPY = utils.make_floppy()
NIC = utils.make_nic()


class TestBootIndexes(base.TestCase):

    def indexes(self, letters, disks, nics=()):
        result = bootorder.boot_indexes(letters, disks, nics)
        return list(result.disks), list(result.nics)

    def test_without_letters_each_device_keeps_its_own(self):
        self.assertEqual(
            ([2, None], [1]),
            self.indexes(None, [utils.make_disk(boot_index=2), DISK_B],
                         [utils.make_nic(boot_index=1)]))

    def test_each_letter_takes_its_kind_in_spec_order(self):
        # cdrom first, then both disks in spec order, then the nic; the
        # floppy's letter is not given, so it does not boot.
        self.assertEqual(
            ([2, None, 1, 3], [4]),
            self.indexes('dcn', [DISK_A, FLOPPY, CDROM, DISK_B], [NIC]))

    def test_every_letter(self):
        self.assertEqual(
            ([3, 1, 4], [2]),
            self.indexes('anc', [DISK_A, FLOPPY, DISK_B], [NIC]))

    def test_a_letter_without_a_device_adds_nothing(self):
        self.assertEqual(([1, 2], []),
                         self.indexes('ndac', [CDROM, DISK_A]))
        self.assertEqual(([None], []), self.indexes('n', [DISK_A]))

    def test_the_two_orders_of_a_disk_and_a_cdrom(self):
        self.assertEqual(([2, 1], []), self.indexes('dc', [DISK_A, CDROM]))
        self.assertEqual(([1, 2], []), self.indexes('cd', [DISK_A, CDROM]))

    def test_a_host_cdrom_is_a_cdrom(self):
        host_cdrom = utils.make_cdrom(source={'host_device': '/dev/sr0'})
        self.assertEqual(([2, 1], []),
                         self.indexes('dc', [DISK_A, host_cdrom]))
