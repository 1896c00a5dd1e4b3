"""Strict test base: a config fixture, a private temp dir, no leaks.

Unit tests also start no processes: :class:`NoProcesses` (ironic's
``do_not_call``) makes every way of starting one fail the test, so a
test that quietly came to depend on qemu-img or another host tool is
found at once. Tests that really need host tools live in the host tier,
tests/host (``tox -e host``): a test's tier, not the test itself, says
whether it may start processes.
"""

import os

import fixtures
from oslo_config import fixture as config_fixture
import testtools

from computeagent import conf

#: the package of the tests that run host tools (qemu-img, qemu-io, nasm,
#: xorriso, systemd-analyze) for real
HOST_TIER = 'tests.host'

# os functions that start a program, each the last stop before exec(2)
# or a fork+exec of its own (system(3) and posix_spawn(3) are C-level).
_OS_STARTERS = ('system', 'posix_spawn', 'posix_spawnp',
                'execl', 'execle', 'execlp', 'execlpe',
                'execv', 'execve', 'execvp', 'execvpe',
                'spawnl', 'spawnle', 'spawnlp', 'spawnlpe',
                'spawnv', 'spawnve', 'spawnvp', 'spawnvpe')


class ProcessForbidden(Exception):
    """A unit test tried to start a process."""


class NoProcesses(fixtures.Fixture):
    """Make every attempt to start a process raise and fail the test.

    Patched: ``oslo_concurrency.processutils.execute`` (for a message
    naming the command), ``subprocess.Popen._execute_child`` (the one
    place every Popen, ``subprocess.run`` and ``os.popen`` goes through,
    however the class was imported), multiprocessing's spawn of a fresh
    interpreter and the os module's exec, spawn and system functions.
    Forking is left alone: a forked child runs the test's own code (the
    'fork' multiprocessing context), and libvirt's ``test:///`` driver
    and oslo.messaging's ``fake:`` transport run in-process.

    The attempt is also remembered and reported at clean-up, so code
    that catches every exception cannot hide it.
    """

    def _setUp(self):
        self.attempts = []
        self.addCleanup(self._report)
        patches = {
            'oslo_concurrency.processutils.execute':
                self._forbid('processutils.execute'),
            'subprocess.Popen._execute_child':
                self._forbid('subprocess.Popen', popen=True),
            'multiprocessing.util.spawnv_passfds':
                self._forbid('multiprocessing spawn'),
        }
        for name in _OS_STARTERS:
            if hasattr(os, name):
                patches['os.' + name] = self._forbid('os.' + name)
        for target, replacement in patches.items():
            self.useFixture(fixtures.MonkeyPatch(target, replacement))

    def _forbid(self, entry, popen=False):
        def forbidden(*args, **kwargs):
            # Popen._execute_child(self, args, ...); the others take the
            # program and its arguments first.
            command = args[1] if popen else args
            message = ('unit test tried to start a process through %s: %r. '
                       'Unit tests run no processes; a test that needs '
                       'host tools (qemu-img, qemu-io, nasm, xorriso) '
                       'belongs in %s.' % (entry, command, HOST_TIER))
            self.attempts.append(message)
            raise ProcessForbidden(message)
        return forbidden

    def _report(self):
        if self.attempts:
            raise ProcessForbidden('; '.join(self.attempts))


class TestCase(testtools.TestCase):
    """Base of every unit test.

    Each test gets its own configuration (overrides vanish at tear-down)
    and its own ``instances_path`` and image directory under a temp dir,
    so no test can touch the host or see another test's files; and
    outside the host tier it may not start processes (see
    :class:`NoProcesses`).
    """

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.Timeout(120, gentle=True))
        if not type(self).__module__.startswith(HOST_TIER + '.'):
            self.no_processes = self.useFixture(NoProcesses())
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
