"""Tests of request contexts on the wire, the typed errors and states."""

import sys

from oslo_context import context as oslo_context
from oslo_messaging._drivers import common as rpc_common

from computeagent.api import context
from computeagent.compute import states
from computeagent import exception
from computeagent.virt import power
from tests import base
from tests.unit import agentfixtures


class TestRequestContextSerializer(base.TestCase):

    def setUp(self):
        super().setUp()
        self.serializer = context.RequestContextSerializer()

    def test_serialize(self):
        ctxt = oslo_context.RequestContext(request_id='req-1',
                                           user_id='u')
        wire = self.serializer.serialize_context(ctxt)
        self.assertEqual(ctxt.to_dict(), wire)
        self.assertEqual({}, self.serializer.serialize_context(None))
        plain = {'request_id': 'req-2'}
        self.assertEqual(plain, self.serializer.serialize_context(plain))
        self.assertIsNot(plain, self.serializer.serialize_context(plain))

    def test_deserialize_a_full_context(self):
        ctxt = oslo_context.RequestContext(request_id='req-1',
                                           user_id='u', project_id='p')
        back = self.serializer.deserialize_context(ctxt.to_dict())
        self.assertIsInstance(back, oslo_context.RequestContext)
        self.assertEqual(('req-1', 'u', 'p'),
                         (back.request_id, back.user_id, back.project_id))
        self.assertIs(ctxt, self.serializer.deserialize_context(ctxt))

    def test_partial_or_missing_contexts_get_a_request_id(self):
        for wire in ({}, {'user_id': 'u'}, None, [], 'junk'):
            back = self.serializer.deserialize_context(wire)
            self.assertIsInstance(back, oslo_context.RequestContext)
            self.assertTrue(back.request_id.startswith('req-'), wire)
        self.assertNotEqual(
            self.serializer.deserialize_context({}).request_id,
            self.serializer.deserialize_context({}).request_id)

    def test_entities_pass_unchanged(self):
        value = {'a': [1, 2]}
        self.assertIs(value, self.serializer.serialize_entity(None, value))
        self.assertIs(value,
                      self.serializer.deserialize_entity(None, value))


class TestExceptions(base.TestCase):

    def test_messages(self):
        self.assertEqual('Invalid disks[0].bus: must be one of virtio',
                         str(exception.InvalidSpec(
                             field='disks[0].bus',
                             reason='must be one of virtio')))
        self.assertEqual('Cannot pause instance u while it is shutoff.',
                         str(exception.InvalidState(action='pause',
                                                    uuid='u',
                                                    state='shutoff')))
        self.assertEqual('The hypervisor refused: no',
                         exception.DriverError(reason='no').message)

    def test_an_explicit_message(self):
        error = exception.InvalidSpec('said so', field='f')
        self.assertEqual(('said so', 'f'), (str(error), error.field))

    def test_a_missing_argument_does_not_hide_the_error(self):
        error = exception.InstanceNotFound(id='x')
        self.assertIn(exception.InstanceNotFound.msg_fmt, str(error))
        self.assertIn("'id': 'x'", str(error))

    def test_the_public_names(self):
        # docs/api.md: these names are what callers see as exc_type.
        self.assertEqual(
            ['DriverError', 'ImageNotFound', 'ImageUnsafe',
             'InstanceExists', 'InstanceNotFound', 'InsufficientResources',
             'InvalidSpec', 'InvalidState', 'MigrationFailed'],
            sorted(e.__name__ for e in exception.API_ERRORS))
        for error in exception.API_ERRORS:
            self.assertEqual('computeagent.exception', error.__module__)
        self.assertNotIn(exception.DriverLoadError, exception.API_ERRORS)

    def test_each_error_crosses_the_wire(self):
        # What oslo.messaging does to an error between agent and client.
        for error in agentfixtures.api_error_samples():
            try:
                raise error
            except exception.ComputeAgentException:
                data = rpc_common.serialize_remote_exception(sys.exc_info())
            typed = rpc_common.deserialize_remote_exception(
                data, ['computeagent.exception'])
            self.assertIsInstance(typed, type(error))
            self.assertEqual(error.message, typed.message)
            self.assertEqual(error.kwargs, typed.kwargs)
            plain = rpc_common.deserialize_remote_exception(data, [])
            self.assertEqual(type(error).__name__, plain.exc_type)
            self.assertEqual(error.message, plain.value)
        self.assertEqual('disks', rpc_common.deserialize_remote_exception(
            rpc_common.serialize_remote_exception(
                (exception.InvalidSpec,
                 exception.InvalidSpec(field='disks', reason='r'), None)),
            ['computeagent.exception']).field)


class TestStates(base.TestCase):

    def test_the_table_names_known_states(self):
        for operation, allowed in states.ALLOWED.items():
            self.assertTrue(set(allowed) <= set(states.ALL), operation)
            self.assertEqual(len(allowed), len(set(allowed)), operation)

    def test_driver_power_states_are_instance_states(self):
        self.assertTrue(set(power.POWER_STATES) <= set(states.ALL))
        self.assertNotIn(states.BUILDING, power.POWER_STATES)
        self.assertNotIn(states.ERROR, power.POWER_STATES)

    def test_the_way_out(self):
        # A hard reboot and a delete work from any state a guest can be
        # stuck in; nothing but delete touches a building instance.
        for state in (states.RUNNING, states.PAUSED, states.SHUTOFF,
                      states.CRASHED, states.ERROR):
            self.assertIn(state, states.ALLOWED['reboot_hard'])
        self.assertEqual(set(states.ALL), set(states.ALLOWED['delete']))
        self.assertEqual(['delete'], [op for op, allowed in
                                      states.ALLOWED.items()
                                      if states.BUILDING in allowed])
