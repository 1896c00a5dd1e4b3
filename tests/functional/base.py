"""Base class of the functional tests."""

import uuid as uuid_mod

import oslo_messaging
import testtools

from tests.functional import fixtures as ft_fixtures


class FunctionalTestCase(testtools.TestCase):
    """Runs against real services; never skips because one is missing."""

    def setUp(self):
        super().setUp()
        ft_fixtures.ensure_services()

    def use_shared_agent(self, driver, options=None, empty=False):
        """This test's share of the process's agent of that driver.

        See fixtures.SharedAgent for what such a test may not do.

        :param empty: the agent has no instance when the test begins, and
            whatever instance the test leaves is deleted at its end
        """
        agent = ft_fixtures.shared_agent(driver, options, empty=empty)
        self.addCleanup(agent.assert_still_running)
        if empty:
            self.addCleanup(agent.delete_all)
        return agent

    @staticmethod
    def new_uuid():
        return str(uuid_mod.uuid4())

    def assertRemoteError(self, exc_type, func, *args, **kwargs):
        """The call fails with a RemoteError of that exc_type."""
        error = self.assertRaises(oslo_messaging.RemoteError, func, *args,
                                  **kwargs)
        self.assertEqual(exc_type, error.exc_type, error.value)
        return error
