"""qemu-img wrappers: what is refused before any qemu-img runs.

The wrappers run for real in tests/host.
"""

import os

from computeagent import exception
from computeagent_libvirt.storage import qemuimg
from tests import base


class TestQemuImg(base.TestCase):

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_only_known_formats(self):
        path = self.path('x')
        for call in (
                lambda: qemuimg.create_blank(self.conf, path, 'vmdk', 1),
                lambda: qemuimg.create_overlay(self.conf, path, path, 'vmdk'),
                lambda: qemuimg.convert(self.conf, path, 'raw', path, 'vdi'),
                lambda: qemuimg.resize(self.conf, path, 'qed', 1)):
            self.assertRaises(exception.DriverError, call)
        self.assertFalse(os.path.exists(path))
