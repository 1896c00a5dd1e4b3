"""pbr reads the metadata from setup.cfg; this adds the plugin packages.

The plugins (virt drivers, image sources) are packages of their own under
``drivers/``, each named for the project (``computeagent_libvirt``, ...)
so that installing it adds no generic top-level name. pbr only finds
packages at the top of the tree and has no key mapping a package to a
directory, so they are added here, after pbr has done its part.
"""

import setuptools
from setuptools import dist

PLUGIN_DIR = 'drivers'
PLUGIN_PACKAGES = setuptools.find_packages(PLUGIN_DIR)


class Distribution(dist.Distribution):

    def finalize_options(self):
        super().finalize_options()  # pbr sets the packages here
        self.packages = sorted(set(self.packages or ()) |
                               set(PLUGIN_PACKAGES))


setuptools.setup(
    setup_requires=['pbr>=6.0'],
    pbr=True,
    distclass=Distribution,
    package_dir={name: '%s/%s' % (PLUGIN_DIR, name)
                 for name in PLUGIN_PACKAGES if '.' not in name})
