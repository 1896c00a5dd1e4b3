"""What installing the distribution puts on the Python path.

The package is installed (editable) in the test environment, so its
metadata is the one ``pip install .`` writes.
"""

from importlib import metadata
import importlib.util
import os

import setuptools

from tests import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class TestPackaging(base.TestCase):

    def test_every_top_level_package_is_named_for_the_project(self):
        names = metadata.distribution('computeagent').read_text(
            'top_level.txt').split()
        self.assertIn('computeagent', names)
        for name in names:
            self.assertTrue(name == 'computeagent' or
                            name.startswith('computeagent_'), name)

    def test_every_plugin_package_is_installed_from_drivers(self):
        packages = setuptools.find_packages(os.path.join(TOP, 'drivers'))
        self.assertIn('computeagent_libvirt.storage', packages)
        for name in packages:
            spec = importlib.util.find_spec(name)
            self.assertIsNotNone(spec, name)
            self.assertEqual(
                os.path.join(TOP, 'drivers', *name.split('.')),
                os.path.dirname(spec.origin))

    def test_the_core_never_imports_a_plugin(self):
        for directory, _, files in os.walk(os.path.join(TOP,
                                                        'computeagent')):
            for name in files:
                if not name.endswith('.py'):
                    continue
                path = os.path.join(directory, name)
                with open(path) as f:
                    text = f.read()
                self.assertNotIn('import computeagent_', text, path)
                self.assertNotIn('from computeagent_', text, path)
