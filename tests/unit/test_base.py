"""The unit test base itself: no unit test can start a process."""

import os
import subprocess

from oslo_concurrency import processutils
import testtools

from tests import base

# Should the guard miss one, starting a program that does not exist
# fails that check without running anything (or replacing this process).
MISSING = '/nonexistent/computeagent-test'


class TestNoProcesses(testtools.TestCase):
    """The guard, set up by hand so a test can see it fire."""

    def setUp(self):
        super().setUp()
        self.cleaned = []

    def guard(self):
        guard = base.NoProcesses()
        guard.setUp()
        self.addCleanup(self._undo, guard)
        return guard

    def clean_up(self, guard):
        """The guard's clean-up, which the test expects to run."""
        self.cleaned.append(guard)
        guard.cleanUp()

    def _undo(self, guard):
        # The patches go even when a test fails before its clean_up.
        if guard not in self.cleaned:
            guard.cleanUp()

    def test_every_way_of_starting_a_process_is_refused(self):
        guard = self.guard()
        starts = (lambda: subprocess.run([MISSING]),
                  lambda: subprocess.Popen([MISSING]),
                  lambda: os.popen(MISSING),
                  lambda: processutils.execute(MISSING),
                  lambda: os.system(MISSING),
                  lambda: os.posix_spawn(MISSING, [MISSING], {}),
                  lambda: os.spawnv(os.P_WAIT, MISSING, [MISSING]),
                  lambda: os.execv(MISSING, [MISSING]))
        for start in starts:
            error = self.assertRaises(base.ProcessForbidden, start)
            self.assertIn(MISSING, str(error))
            self.assertIn('tests.host', str(error))
        self.assertEqual(len(starts), len(guard.attempts))
        self.assertRaises(base.ProcessForbidden, self.clean_up, guard)

    def test_an_attempt_the_code_swallows_still_fails_the_test(self):
        guard = self.guard()
        try:
            subprocess.run([MISSING, 'swallowed'])
        except Exception:
            pass
        report = self.assertRaises(base.ProcessForbidden, self.clean_up, guard)
        self.assertIn('swallowed', str(report))

    def test_clean_up_restores_everything(self):
        originals = (processutils.execute, subprocess.Popen._execute_child,
                     os.system, os.execv)
        guard = self.guard()
        self.assertIsNot(originals[0], processutils.execute)
        self.clean_up(guard)
        self.assertEqual(originals,
                         (processutils.execute,
                          subprocess.Popen._execute_child,
                          os.system, os.execv))


class TestTheTierDecides(base.TestCase):

    def test_a_unit_test_is_guarded(self):
        self.assertRaises(base.ProcessForbidden, subprocess.run, [MISSING])
        # Not a failure of this test: what the guard recorded is cleared.
        self.assertEqual(1, len(self.no_processes.attempts))
        self.no_processes.attempts.clear()
