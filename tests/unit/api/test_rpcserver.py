"""The RPC server's build pool (computeagent.api.rpcserver), over ``fake:``.

The agent runs with one RPC worker, so that a request holding it would
show at once: other requests would time out behind it.
"""

import inspect
import threading

import fixtures
import oslo_messaging
from oslo_messaging.rpc import server as rpc_server

from computeagent.api import rpcserver
from tests.unit import agentfixtures
from tests.unit.api import test_rpcapi as test_rpc_api

# Long enough for a free worker to answer; a request stuck behind a busy
# worker fails the test after it.
ANSWER_TIMEOUT = 10


class TestBuildPool(test_rpc_api.RpcTestCase):

    def setUp(self):
        super().setUp()
        self.agent = self.start_agent(rpc_workers=1)
        transport, self.client = agentfixtures.plain_client(self.conf)
        self.addCleanup(transport.cleanup)
        self.answering = self.client.prepare(timeout=ANSWER_TIMEOUT)

    def hold(self, name):
        return self.useFixture(agentfixtures.HeldCalls(self.agent.driver,
                                                       name))

    def call_in_thread(self, method, **kwargs):
        """Call ``method`` on a thread; returns a dict to find the result.

        The result (or the error) is in it once the thread is joined.
        """
        outcome = {}

        def run():
            try:
                outcome['result'] = self.client.call({}, method, **kwargs)
            except Exception as error:
                outcome['error'] = error
        thread = threading.Thread(target=run)
        thread.start()
        self.addCleanup(thread.join, agentfixtures.WAIT)
        outcome['thread'] = thread
        return outcome

    def test_the_threading_executor(self):
        self.assertEqual('threading',
                         self.agent.service.server.executor_type)

    def test_builds_leave_the_rpc_worker_free(self):
        spawns = self.hold('spawn')
        cast_spec = agentfixtures.make_spec()
        self.client.cast({}, 'create_instance', spec=cast_spec)
        spawns.wait_entered()
        # A called create waits for the build pool, not on the worker.
        called = self.call_in_thread('create_instance',
                                     spec=agentfixtures.make_spec())
        listed = self.answering.call({}, 'list_instances')
        self.assertEqual([(cast_spec['uuid'], 'building')],
                         [(r['uuid'], r['state']) for r in listed])
        self.assertEqual('test-host', self.answering.call(
            {}, 'get_host_status')['host'])
        spawns.gate.set()
        called['thread'].join(agentfixtures.WAIT)
        self.assertEqual('running', called['result']['state'])
        self.notifications.wait_for('instance.create.end', count=2)
        self.assertEqual(['running', 'running'], [
            r['state'] for r in self.answering.call({}, 'list_instances')])

    def test_other_long_requests_hold_the_worker(self):
        uuid = self.client.call({}, 'create_instance',
                                spec=agentfixtures.make_spec())['uuid']
        stops = self.hold('power_off')
        stopped = self.call_in_thread('stop_instance', uuid=uuid)
        stops.wait_entered()
        # rpc_workers bounds everything but creates: the only worker is
        # busy, so the next request waits its turn.
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          self.client.prepare(timeout=1).call, {},
                          'list_instances')
        stops.gate.set()
        stopped['thread'].join(agentfixtures.WAIT)
        self.assertEqual('shutoff', stopped['result']['state'])

    def test_creates_accepted_before_a_stop_all_finish(self):
        spawns = self.hold('spawn')
        first, queued = (agentfixtures.make_spec(),
                         agentfixtures.make_spec())
        self.client.cast({}, 'create_instance', spec=first)
        spawns.wait_entered()
        self.client.cast({}, 'create_instance', spec=queued)
        # The one worker takes messages in order: once it answers this,
        # the second create waits in the build pool's queue.
        self.answering.call({}, 'list_instances')
        server = self.agent.service.server
        real_stop, real_wait = server.stop, server.wait
        ended_before_wait = []

        def stop():
            real_stop()
            # The builds go on only once the server takes no requests.
            spawns.gate.set()

        def wait():
            # What the server's wait closes (the listener) must outlive
            # every create: they must all have ended by now (their
            # notifications may still be on their way from the outbox).
            ended_before_wait.extend(
                r for r in self.agent.service.store.list()
                if r.state == 'running')
            real_wait()
        self.useFixture(fixtures.MockPatchObject(server, 'stop', stop))
        self.useFixture(fixtures.MockPatchObject(server, 'wait', wait))
        self.agent.service.stop()
        self.assertEqual({first['uuid'], queued['uuid']},
                         {r.uuid for r in ended_before_wait})
        self.assertEqual({'running'}, {
            r.state for r in self.agent.service.store.list()})


class TestProcessIncomingHook(test_rpc_api.RpcTestCase):
    """The private hook of oslo.messaging that AgentRPCServer refines.

    requirements.txt bounds oslo.messaging below its next major version;
    these fail if a version within the bound changes what is relied on.
    """

    def setUp(self):
        super().setUp()
        # (thread, method) of each message the parent's hook handles.
        self.handled = []
        real = rpc_server.RPCServer._process_incoming

        def process_incoming(server, incoming):
            self.handled.append((threading.current_thread().name,
                                 incoming[0].message.get('method')))
            return real(server, incoming)
        self.useFixture(fixtures.MonkeyPatch(
            'oslo_messaging.rpc.server.RPCServer._process_incoming',
            process_incoming))
        self.agent = self.start_agent(rpc_workers=1)
        transport, self.client = agentfixtures.plain_client(self.conf)
        self.addCleanup(transport.cleanup)

    def test_the_hook_takes_one_batch_of_incoming_messages(self):
        self.assertEqual(['self', 'incoming'], list(inspect.signature(
            rpc_server.RPCServer._process_incoming).parameters))
        self.assertIsInstance(self.agent.service.server,
                              rpcserver.AgentRPCServer)

    def test_each_request_goes_through_the_hook(self):
        threads = []
        real_spawn = self.agent.driver.spawn

        def spawn(spec, timings=None):
            threads.append(threading.current_thread().name)
            return real_spawn(spec, timings)
        self.useFixture(fixtures.MockPatchObject(
            self.agent.driver, 'spawn', side_effect=spawn))
        self.client.call({}, 'create_instance',
                         spec=agentfixtures.make_spec())
        self.client.call({}, 'list_instances')
        (create_thread, create), (list_thread, listed) = self.handled
        self.assertEqual(('create_instance', 'list_instances'),
                         (create, listed))
        # The create is handled, and its guest spawned, on the build
        # pool; anything else on the RPC worker.
        self.assertTrue(create_thread.startswith(
            rpcserver.BUILD_THREAD_PREFIX), create_thread)
        self.assertEqual([create_thread], threads)
        self.assertFalse(list_thread.startswith(
            rpcserver.BUILD_THREAD_PREFIX), list_thread)

    def test_only_api_methods_are_dispatched(self):
        # ExplicitRPCAccessPolicy: the endpoint's manager is no method.
        error = self.assertRaises(oslo_messaging.RemoteError,
                                  self.client.call, {}, 'manager')
        self.assertEqual('NoSuchMethod', error.exc_type)
