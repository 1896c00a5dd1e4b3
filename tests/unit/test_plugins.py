"""Tests of loading plugins by entry point (plugins, virt.load_driver).

The package is installed (editable) in the test environment, so
stevedore sees its real entry points.
"""

import sys
from unittest import mock

import fixtures

from computeagent import exception
from computeagent import plugins
from computeagent.virt import driver as virt_driver
from computeagent_fake import driver as fake_driver
from tests import base

NAMESPACE = 'computeagent.virt_drivers'


class TestInstalled(base.TestCase):

    def test_the_declared_drivers(self):
        self.assertEqual(['fake', 'libvirt'], plugins.installed(NAMESPACE))
        self.assertEqual(['directory', 'http'],
                         plugins.installed('computeagent.image_sources'))

    def test_an_unknown_namespace(self):
        self.assertEqual([], plugins.installed('computeagent.nothing'))

    def test_listing_imports_nothing(self):
        with mock.patch.dict(sys.modules):
            sys.modules.pop('computeagent_libvirt.driver', None)
            plugins.installed(NAMESPACE)
            self.assertNotIn('computeagent_libvirt.driver', sys.modules)


class TestLoad(base.TestCase):

    def test_load_driver(self):
        self.flags(virt_driver='fake')
        driver = virt_driver.load_driver(self.conf)
        self.assertIsInstance(driver, fake_driver.FakeDriver)
        self.assertIs(self.conf, driver.conf)
        self.assertEqual('fake', driver.name)

    def test_an_unknown_name_lists_the_installed_ones(self):
        self.flags(virt_driver='libvrt')
        error = self.assertRaises(exception.DriverLoadError,
                                  virt_driver.load_driver, self.conf)
        self.assertEqual("Cannot load virt driver 'libvrt': no such "
                         "plugin. Installed: fake, libvirt.", str(error))
        self.assertEqual('fake, libvirt', error.kwargs['available'])

    def test_an_unknown_namespace(self):
        error = self.assertRaises(exception.DriverLoadError, plugins.load,
                                  'computeagent.nothing', 'x', 'thing')
        self.assertEqual("Cannot load thing 'x': no such plugin. "
                         "Installed: none.", str(error))

    def test_a_plugin_whose_constructor_fails(self):
        self.flags(virt_driver='fake')
        self.useFixture(fixtures.MockPatchObject(
            fake_driver.FakeDriver, '__init__',
            side_effect=RuntimeError('no hypervisor here')))
        error = self.assertRaises(exception.DriverLoadError,
                                  virt_driver.load_driver, self.conf)
        self.assertEqual("Cannot load virt driver 'fake': no hypervisor "
                         "here. Installed: fake, libvirt.", str(error))

    def test_a_plugin_that_cannot_be_imported_is_still_installed(self):
        # As when libvirt-python is missing: the name is right, the
        # import fails, and the message must not say it is not there.
        self.flags(virt_driver='fake')
        with mock.patch.dict(sys.modules, {'computeagent_fake.driver': None}):
            error = self.assertRaises(exception.DriverLoadError,
                                      virt_driver.load_driver, self.conf)
        self.assertIn('computeagent_fake.driver', str(error))
        self.assertTrue(str(error).endswith('Installed: fake, libvirt.'),
                        str(error))
