"""Every API method's arguments fuzzed through a plain RPC client.

Whatever a controller sends, it gets an answer or one of docs/api.md's
errors for bad input, never a bare Python error dressed as DriverError:
that would mean a value slipped past validation into code that did not
expect it. The values are pseudo-random JSON, from a fixed seed so a
failure can be replayed, plus the awkward values a hand picks.
"""

import inspect
import random

import oslo_messaging

from computeagent.api import endpoint as endpoint_mod
from computeagent import exception
from tests.unit import agentfixtures
from tests.unit.api import test_rpcapi

SEED = 20261202
RANDOM_VALUES_PER_ARGUMENT = 12
# The errors that answer bad input; DriverError would be a bug. A
# migration from this single host, whose instances path is not shared,
# is refused as MigrationFailed, whatever the destination.
INPUT_ERRORS = ('InvalidSpec', 'InstanceNotFound', 'InstanceExists',
                'InvalidState', 'ImageNotFound', 'ImageUnsafe',
                'InsufficientResources', 'MigrationFailed')
AWKWARD = (None, True, False, 0, -1, 1.5, float('inf'), 2 ** 70, '',
           'x' * 5000, '\x00', 'vda\n', '../../etc', [], [None], {},
           {'': None}, {'source': {'blank': True}}, [[[]]],
           '00000000-0000-0000-0000-00000000000G')


def api_methods():
    """(name, parameters after ctxt) of every method the server exposes."""
    policy = oslo_messaging.ExplicitRPCAccessPolicy()
    methods = []
    for name, func in inspect.getmembers(endpoint_mod.ComputeEndpoint,
                                         inspect.isfunction):
        if policy.is_allowed(endpoint_mod.ComputeEndpoint, name):
            params = list(inspect.signature(
                inspect.unwrap(func)).parameters.values())[2:]
            methods.append((name, params))
    return methods


def random_json(rng, depth=0):
    """A random JSON value, nested at most three deep."""
    kinds = ['null', 'bool', 'int', 'float', 'str']
    if depth < 3:
        kinds += ['list', 'dict']
    kind = rng.choice(kinds)
    if kind == 'null':
        return None
    if kind == 'bool':
        return rng.random() < 0.5
    if kind == 'int':
        return rng.choice([rng.randint(-3, 3), rng.randint(-2 ** 40, 2 ** 40)])
    if kind == 'float':
        return rng.uniform(-1e6, 1e6)
    if kind == 'str':
        return ''.join(chr(rng.randint(0, 0x2fff))
                       for _ in range(rng.randint(0, 12)))
    if kind == 'list':
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = ['source', 'disks', 'uuid', 'type', 'bus', 'image', 'blank',
            'size_mb', 'target', 'cache', 'port', 'nics', 'x']
    return {rng.choice(keys): random_json(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


class TestFuzzedArguments(test_rpcapi.PlainClientTestCase):

    def setUp(self):
        super().setUp()
        self.uuid = self.call('create_instance',
                              spec=agentfixtures.make_spec())['uuid']
        self.valid = {'uuid': self.uuid, 'target': 'vda',
                      'spec': agentfixtures.make_spec(),
                      'disk': test_rpcapi.BLANK, 'dest_host': 'other-host',
                      'boot_order': ['vda']}

    def assertOnlyInputErrors(self, method, kwargs):
        # Called as the server's dispatcher calls (the wire adds only JSON,
        # which the values already are): thousands of calls in seconds.
        try:
            getattr(self.agent.endpoint, method)({}, **kwargs)
        except oslo_messaging.ExpectedException as wrapped:
            error = wrapped.exc_info[1]
            self.assertIn(type(error).__name__, INPUT_ERRORS,
                          '%s(%r): %s' % (method, kwargs, error))

    def test_reserved_names_are_just_bad_arguments(self):
        # ctxt and self are the wrapper's own; as argument names they are
        # unknown arguments like any other. oslo.messaging's client cannot
        # send them (its call() has a ctxt of its own), so this calls the
        # endpoint as the server's dispatcher does: func(ctxt, **args).
        for method, params in api_methods():
            exposed = getattr(self.agent.endpoint, method)
            for name in ('ctxt', 'self'):
                wrapped = self.assertRaises(
                    oslo_messaging.ExpectedException,
                    lambda: exposed({}, **{name: {}}))
                error = wrapped.exc_info[1]
                self.assertIsInstance(error, exception.InvalidSpec)
                self.assertIn('bad arguments', str(error))

    def test_every_argument_of_every_method(self):
        rng = random.Random(SEED)
        calls = 0
        for method, params in api_methods():
            base = {p.name: self.valid[p.name] for p in params
                    if p.default is inspect.Parameter.empty}
            for param in params:
                values = list(AWKWARD) + [
                    random_json(rng)
                    for _ in range(RANDOM_VALUES_PER_ARGUMENT)]
                for value in values:
                    self.assertOnlyInputErrors(
                        method, dict(base, **{param.name: value}))
                    calls += 1
            self.assertOnlyInputErrors(method, dict(base, bogus=1))
        self.assertGreater(calls, 300)
        # The instance the calls were aimed at is still served.
        self.assertEqual(self.uuid,
                         self.call('get_instance', uuid=self.uuid)['uuid'])
