"""What installing the distribution puts on the Python path, and the
layers of docs/design.md as the imports have them.

The package is installed (editable) in the test environment, so its
metadata is the one ``pip install .`` writes.
"""

import ast
import collections
from importlib import metadata
import importlib.util
import os
import sys

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


def _layer(module):
    """``computeagent.<package>``, a plugin package, or a library."""
    parts = module.split('.')
    if parts[0] == 'computeagent' and len(parts) > 1:
        return 'computeagent.' + parts[1]
    return parts[0]


def _imports():
    """{layer: {layers its modules import}} over computeagent and drivers."""
    found = collections.defaultdict(set)
    for top in ('computeagent', 'drivers'):
        for directory, _, files in os.walk(os.path.join(TOP, top)):
            for name in files:
                if not name.endswith('.py'):
                    continue
                path = os.path.join(directory, name)
                module = os.path.relpath(path[:-3], TOP).replace(os.sep, '.')
                module = module.split('.', 1)[1] if top == 'drivers' else (
                    module)
                with open(path) as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        names = [alias.name for alias in node.names]
                    elif isinstance(node, ast.ImportFrom) and node.module:
                        names = ['%s.%s' % (node.module, alias.name)
                                 for alias in node.names]
                    else:
                        continue
                    for imported in names:
                        if _layer(imported) != _layer(module):
                            found[_layer(module)].add(_layer(imported))
    return found


class TestLayers(base.TestCase):
    """The import rules docs/design.md states."""

    def setUp(self):
        super().setUp()
        self.imports = _imports()

    def test_the_core_never_imports_a_plugin(self):
        for layer, imported in self.imports.items():
            if layer.startswith('computeagent.') or layer == 'computeagent':
                self.assertEqual(
                    set(), {name for name in imported
                            if name.startswith('computeagent_')}, layer)

    def test_plugins_never_import_each_other_nor_the_service(self):
        allowed = {'computeagent.exception', 'computeagent.virt',
                   'computeagent.images', 'computeagent.objects'}
        for layer in ('computeagent_fake', 'computeagent_images',
                      'computeagent_libvirt'):
            ours = {name for name in self.imports[layer]
                    if name.startswith('computeagent')}
            self.assertLessEqual(ours, allowed, layer)

    def test_lower_layers_never_import_higher_ones(self):
        # Each layer may import only what is below it.
        below = {
            'computeagent.durable': set(),
            'computeagent.objects': {'computeagent.exception'},
            'computeagent.virt': {'computeagent.durable',
                                  'computeagent.exception',
                                  'computeagent.objects',
                                  'computeagent.plugins'},
            'computeagent.schema': {'computeagent.exception',
                                    'computeagent.objects',
                                    'computeagent.virt'},
            'computeagent.console': {'computeagent.durable',
                                     'computeagent.objects'},
            'computeagent.compute': {'computeagent.console',
                                     'computeagent.durable',
                                     'computeagent.exception',
                                     'computeagent.objects',
                                     'computeagent.schema',
                                     'computeagent.virt',
                                     'computeagent.version'},
            'computeagent.api': {'computeagent.durable',
                                 'computeagent.exception',
                                 'computeagent.schema',
                                 'computeagent.compute',
                                 'computeagent.fleet'},
            'computeagent.fleet': set(),
        }
        for layer, allowed in below.items():
            ours = {name for name in self.imports[layer]
                    if name.startswith('computeagent')}
            self.assertLessEqual(ours, allowed, layer)

    def test_objects_need_only_the_standard_library(self):
        others = {name for name in self.imports['computeagent.objects']
                  if not name.startswith('computeagent')}
        self.assertLessEqual(others, set(sys.stdlib_module_names))

    def test_only_the_rpc_side_speaks_oslo_messaging(self):
        for layer in ('computeagent.compute', 'computeagent.schema',
                      'computeagent.objects',
                      'computeagent.virt', 'computeagent_libvirt',
                      'computeagent_fake'):
            self.assertNotIn('oslo_messaging', self.imports[layer], layer)

    def test_only_the_host_module_imports_libvirt(self):
        importers = []
        top = os.path.join(TOP, 'drivers', 'computeagent_libvirt')
        for directory, _, files in os.walk(top):
            for name in files:
                if name.endswith('.py'):
                    path = os.path.join(directory, name)
                    with open(path) as f:
                        tree = ast.parse(f.read())
                    if any(isinstance(node, ast.Import) and
                           any(a.name == 'libvirt' for a in node.names)
                           for node in ast.walk(tree)):
                        importers.append(os.path.relpath(path, top))
        self.assertEqual(['host.py'], importers)
