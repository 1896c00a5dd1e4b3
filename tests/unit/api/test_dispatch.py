"""Tests of the RPC method wrapper (computeagent.api.dispatch) on its own."""

from oslo_context import context as oslo_context
import oslo_messaging

from computeagent.api import dispatch
from computeagent import exception
from tests import base
from tests.unit import agentfixtures


class Endpoint(object):

    def __init__(self):
        self.seen = []

    @dispatch.api_method
    def echo(self, ctxt, value, other=None):
        """Echo."""
        self.seen.append(oslo_context.get_current())
        return {'value': value, 'other': other}

    @dispatch.api_method
    def fail(self, ctxt, error):
        raise error

    def helper(self):
        return 'not exposed'


class TestApiMethod(base.TestCase):

    def setUp(self):
        super().setUp()
        self.endpoint = Endpoint()
        self.ctxt = oslo_context.RequestContext(request_id='req-1')

    def call(self, method, /, **kwargs):
        try:
            return getattr(self.endpoint, method)(self.ctxt, **kwargs)
        except oslo_messaging.ExpectedException as wrapped:
            raise wrapped.exc_info[1] from None

    def test_arguments_are_passed(self):
        self.assertEqual({'value': 1, 'other': None},
                         self.call('echo', value=1))
        self.assertEqual({'value': 1, 'other': 2},
                         self.call('echo', value=1, other=2))

    def test_the_context_is_the_threads_current_one(self):
        # oslo.log takes request_id from it for every line of the request.
        self.call('echo', value=1)
        self.assertIs(self.ctxt, self.endpoint.seen[0])

    def test_a_plain_dict_context_is_accepted(self):
        self.assertEqual({'value': 1, 'other': None},
                         self.endpoint.echo({}, value=1))

    def test_unknown_missing_and_positional_arguments(self):
        for kwargs in ({'value': 1, 'bogus': 2}, {}, {'other': 1},
                       {'value': 1, 'ctxt': {}}, {'value': 1, 'self': 1}):
            error = self.assertRaises(exception.InvalidSpec,
                                      lambda: self.call('echo', **kwargs))
            self.assertEqual('echo', error.field)
            self.assertIn('bad arguments', str(error))
        self.assertEqual([], self.endpoint.seen)

    def test_api_errors_pass_as_expected_exceptions(self):
        for error in agentfixtures.api_error_samples():
            # Wrapped so the server does not log them as its failures.
            wrapped = self.assertRaises(oslo_messaging.ExpectedException,
                                        self.endpoint.fail, self.ctxt,
                                        error=error)
            self.assertIs(error, wrapped.exc_info[1])

    def test_anything_else_becomes_a_driver_error(self):
        for error, text in ((ValueError('bad'), 'ValueError: bad'),
                            (KeyError('k'), "KeyError: 'k'"),
                            (exception.DriverLoadError(
                                kind='k', name='n', reason='r',
                                available='a'), 'DriverLoadError: ')):
            raised = self.assertRaises(exception.DriverError, self.call,
                                       'fail', error=error)
            self.assertIn(text, str(raised))

    def test_only_api_methods_are_exposed(self):
        policy = oslo_messaging.ExplicitRPCAccessPolicy()
        self.assertTrue(policy.is_allowed(self.endpoint, 'echo'))
        self.assertTrue(policy.is_allowed(self.endpoint, 'fail'))
        self.assertFalse(policy.is_allowed(self.endpoint, 'helper'))
        self.assertFalse(policy.is_allowed(self.endpoint, 'missing'))
