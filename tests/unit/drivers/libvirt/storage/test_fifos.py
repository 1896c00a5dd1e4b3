"""The FIFOs of pipe ports (InstanceStorage.make_fifos)."""

import os
import stat

from computeagent import exception
from computeagent_libvirt.storage import instance as storage_mod
from tests import base


class TestMakeFifos(base.TestCase):

    def setUp(self):
        super().setUp()
        self.storage = storage_mod.InstanceStorage(self.conf)
        self.paths = [os.path.join(self.tmp, name)
                      for name in ('serial1.in', 'serial1.out')]

    def test_made_private_and_kept_when_they_exist(self):
        self.storage.make_fifos(self.paths)
        for path in self.paths:
            mode = os.lstat(path).st_mode
            self.assertTrue(stat.S_ISFIFO(mode), path)
            self.assertEqual(storage_mod.FIFO_MODE, stat.S_IMODE(mode))
        inode = os.lstat(self.paths[0]).st_ino
        # A guest started again: the FIFOs are the same ones.
        self.storage.make_fifos(self.paths)
        self.assertEqual(inode, os.lstat(self.paths[0]).st_ino)

    def test_a_name_taken_by_another_file_is_refused(self):
        with open(self.paths[1], 'w'):
            pass
        error = self.assertRaises(exception.DriverError,
                                  self.storage.make_fifos, self.paths)
        self.assertIn('%s exists and is not a FIFO' % self.paths[1],
                      str(error))
        self.assertTrue(os.path.isfile(self.paths[1]))

    def test_a_missing_directory_is_a_driver_error(self):
        path = os.path.join(self.tmp, 'gone', 'serial0.in')
        error = self.assertRaises(exception.DriverError,
                                  self.storage.make_fifos, [path])
        self.assertIn('cannot make the FIFO %s' % path, str(error))
