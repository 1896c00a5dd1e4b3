"""Strict test base: a config fixture, a private temp dir, no leaks."""

import os

import fixtures
from oslo_config import fixture as config_fixture
import testtools

from computeagent import conf


class TestCase(testtools.TestCase):
    """Base of every unit test.

    Each test gets its own configuration (overrides vanish at tear-down)
    and its own ``instances_path`` and image directory under a temp dir,
    so no test can touch the host or see another test's files.
    """

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.Timeout(120, gentle=True))
        self.conf = conf.CONF
        conf.register_opts(self.conf)
        self.config = self.useFixture(config_fixture.Config(self.conf))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.flags(instances_path=self.tmp + '/instances',
                   host='test-host')
        self.flags(directory=self.tmp + '/images', group='image')

    def flags(self, group=None, **kw):
        """Override options for this test only."""
        for name, value in kw.items():
            self.config.config(group=group, **{name: value})

    def make_instance_dir(self, uuid, names=(), content='x'):
        """Make ``uuid``'s instance directory holding files ``names``.

        :param content: what each file holds
        :returns: the directory's path
        """
        directory = os.path.join(self.conf.instances_path, uuid)
        os.makedirs(directory)
        for name in names:
            with open(os.path.join(directory, name), 'w') as f:
                f.write(content)
        return directory
