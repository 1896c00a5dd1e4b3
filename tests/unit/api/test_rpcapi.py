"""docs/api.md over oslo.messaging's fake: transport, through a real Service.

Two callers: a plain oslo.messaging RPC client with nothing of ours (a
controller written by someone else), which sees errors as RemoteError
named by exc_type, and computeagent.api.rpcapi, which gets the typed
exceptions back. The WireFormat fixture makes replies and errors cross
the fake transport as they cross a broker.
"""

import threading

import fixtures
import oslo_messaging

from computeagent.api import rpcapi
from computeagent import exception
from tests import base
from tests.unit import agentfixtures

BLANK = {'source': {'blank': True}, 'size_mb': 8}


class RpcTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        fake = self.useFixture(agentfixtures.FakeTransport(self.conf))
        self.notifications = fake.notifications
        self.useFixture(agentfixtures.WireFormat())

    def start_agent(self, **flags):
        self.agent = self.useFixture(agentfixtures.AgentService(self.conf,
                                                                **flags))
        return self.agent


class PlainClientTestCase(RpcTestCase):

    def setUp(self):
        super().setUp()
        self.start_agent()
        transport, self.client = agentfixtures.plain_client(self.conf)
        self.addCleanup(transport.cleanup)

    def call(self, method, ctxt=None, **kwargs):
        return self.client.call(ctxt or {}, method, **kwargs)

    def assertRemoteError(self, exc_type, method, **kwargs):
        error = self.assertRaises(oslo_messaging.RemoteError, self.call,
                                  method, **kwargs)
        self.assertEqual(exc_type, error.exc_type, error.value)
        return error


class TestPlainClient(PlainClientTestCase):

    def test_instance_life_cycle(self):
        spec = agentfixtures.make_spec(name='web-1')
        uuid = spec['uuid']
        record = self.call('create_instance', spec=spec)
        self.assertEqual(('running', 'web-1', 'test-host'),
                         (record['state'], record['name'], record['host']))
        self.assertEqual(record, self.call('get_instance', uuid=uuid))
        self.assertEqual([record], self.call('list_instances'))
        self.assertEqual(record, self.call('create_instance', spec=spec))
        for method, kwargs, state in (
                ('pause_instance', {}, 'paused'),
                ('unpause_instance', {}, 'running'),
                ('suspend_instance', {}, 'suspended'),
                ('resume_instance', {}, 'running'),
                ('reboot_instance', {'hard': False}, 'running'),
                ('stop_instance', {'timeout': 1}, 'shutoff'),
                ('reboot_instance', {'hard': True}, 'running')):
            self.assertEqual(state, self.call(method, uuid=uuid,
                                              **kwargs)['state'])
        record = self.call('attach_disk', uuid=uuid, disk=BLANK)
        self.assertEqual(['vda', 'vdb'],
                         [d['target'] for d in record['disks']])
        record = self.call('detach_disk', uuid=uuid, target='vdb')
        self.assertEqual(['vda'], [d['target'] for d in record['disks']])
        console = self.call('get_console_output', uuid=uuid, tail_lines=1)
        self.assertIn('rebooting (hard)', console['output'])
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         self.call('delete_instance', uuid=uuid))
        self.assertEqual([], self.call('list_instances'))

    def test_render_and_host_status(self):
        spec = agentfixtures.make_spec()
        plan = self.call('render_instance', spec=spec)
        self.assertEqual({'domain_xml', 'disks'}, set(plan))
        status = self.call('get_host_status')
        self.assertEqual(('test-host', 'fake', 0),
                         (status['host'], status['driver'],
                          status['instances']))

    def test_errors_are_named_by_exc_type(self):
        spec = agentfixtures.make_spec()
        uuid = spec['uuid']
        error = self.assertRemoteError(
            'InvalidSpec', 'create_instance', spec=dict(spec, vcpus=0))
        self.assertIn('vcpus', error.value)
        self.assertRemoteError('InstanceNotFound', 'get_instance',
                               uuid=uuid)
        self.call('create_instance', spec=spec)
        self.assertRemoteError('InstanceExists', 'create_instance',
                               spec=dict(spec, vcpus=2))
        self.assertRemoteError('InvalidState', 'unpause_instance',
                               uuid=uuid)
        self.assertRemoteError('InvalidSpec', 'get_instance', uuid='x')
        self.assertRemoteError('InvalidSpec', 'detach_disk', uuid=uuid,
                               target='vda')
        self.flags(reserved_host_memory_mb=10 ** 7)
        self.assertRemoteError('InsufficientResources', 'create_instance',
                               spec=agentfixtures.make_spec())

    def test_unexpected_errors_arrive_as_driver_error(self):
        uuid = self.call('create_instance',
                         spec=agentfixtures.make_spec())['uuid']
        self.useFixture(fixtures.MockPatchObject(
            self.agent.driver, 'pause', side_effect=ZeroDivisionError('x')))
        error = self.assertRemoteError('DriverError', 'pause_instance',
                                       uuid=uuid)
        self.assertIn('ZeroDivisionError: x', error.value)

    def test_unknown_and_missing_arguments(self):
        uuid = self.call('create_instance',
                         spec=agentfixtures.make_spec())['uuid']
        error = self.assertRemoteError('InvalidSpec', 'get_instance',
                                       uuid=uuid, details=True)
        self.assertIn('details', error.value)
        self.assertRemoteError('InvalidSpec', 'get_instance')
        self.assertRemoteError('InvalidSpec', 'list_instances', all=True)

    def test_helpers_cannot_be_called(self):
        # ExplicitRPCAccessPolicy: only the methods of docs/api.md are
        # exposed, whatever else the endpoint and its manager have.
        api = {name for name in dir(rpcapi.ComputeAgentAPI)
               if not name.startswith('_')} - {'can_send_version'}
        helpers = {name for name in dir(self.agent.endpoint)
                   if name not in api}
        helpers |= {name for name in dir(self.agent.manager)
                    if not name.startswith('__')}
        helpers |= {'manager', 'no_such_method', '__init__'}
        for method in sorted(helpers):
            self.assertRemoteError('NoSuchMethod', method)
        self.assertEqual(0, self.call('get_host_status')['instances'])

    def test_every_version_served_is_answered(self):
        for version in ('1.0', '1.1', '1.2', '1.3'):
            client = self.client.prepare(version=version)
            self.assertEqual([], client.call({}, 'list_instances'))

    def test_a_newer_version_is_refused(self):
        client = self.client.prepare(version='1.4')
        error = self.assertRaises(oslo_messaging.RemoteError, client.call,
                                  {}, 'list_instances')
        self.assertEqual('UnsupportedVersion', error.exc_type)

    def test_the_request_id_is_the_callers(self):
        self.call('create_instance', ctxt={'request_id': 'req-from-ctl',
                                           'user_id': 'u1'},
                  spec=agentfixtures.make_spec())
        # The agent's sender thread delivers after the reply.
        self.notifications.wait_for('instance.create.end')
        self.assertEqual(['req-from-ctl'] * 2, [
            c['request_id'] for c, m, _p in self.notifications.all
            if m['event_type'].startswith('instance.')])

    def test_a_context_without_request_id_gets_one(self):
        self.call('create_instance', ctxt={},
                  spec=agentfixtures.make_spec())
        self.notifications.wait_for('instance.create.end')
        ids = {c['request_id'] for c, m, _p in self.notifications.all
               if m['event_type'].startswith('instance.')}
        self.assertEqual(1, len(ids))
        self.assertTrue(ids.pop().startswith('req-'))

    def test_cast_create_and_delete(self):
        spec = agentfixtures.make_spec()
        uuid = spec['uuid']
        self.assertIsNone(self.client.cast({}, 'create_instance',
                                           spec=spec))
        end = self.notifications.wait_for('instance.create.end')[0]
        self.assertEqual(end['payload']['uuid'], uuid)
        self.assertEqual('running', self.call('get_instance',
                                              uuid=uuid)['state'])
        self.client.cast({}, 'delete_instance', uuid=uuid)
        self.notifications.wait_for('instance.delete.end')
        self.assertRemoteError('InstanceNotFound', 'get_instance',
                               uuid=uuid)

    def test_a_failed_cast_is_notified(self):
        spec = agentfixtures.make_spec(memory_mb=1)
        self.client.cast({}, 'create_instance', spec=spec)
        error = self.notifications.wait_for('instance.create.error')[0]
        self.assertEqual(('InvalidSpec', spec['uuid']),
                         (error['payload']['error_type'],
                          error['payload']['uuid']))
        self.assertEqual('ERROR', error['priority'])


class TestRpcApi(RpcTestCase):
    """computeagent.api.rpcapi: the project's own client, typed errors."""

    def setUp(self):
        super().setUp()
        self.start_agent()
        transport = rpcapi.get_transport(self.conf)
        self.addCleanup(transport.cleanup)
        self.api = rpcapi.ComputeAgentAPI(
            transport, 'test-host', topic=self.conf.rpc_topic,
            timeout=agentfixtures.CALL_TIMEOUT)
        self.ctxt = agentfixtures.context()

    def test_every_method(self):
        spec = agentfixtures.make_spec(disks=[
            {'source': {'image': 'a'}, 'snapshot': True},
            {'source': {'blank': True}, 'device': 'cdrom'}])
        uuid = spec['uuid']
        api, ctxt = self.api, self.ctxt
        self.assertEqual(['vda', 'sda'], [
            d['target'] for d in api.render_instance(ctxt, spec)['disks']])
        record = api.create_instance(ctxt, spec)
        self.assertEqual(record, api.get_instance(ctxt, uuid))
        self.assertEqual([record], api.list_instances(ctxt))
        self.assertEqual('paused', api.pause_instance(ctxt, uuid)['state'])
        self.assertEqual('running',
                         api.unpause_instance(ctxt, uuid)['state'])
        self.assertEqual('suspended',
                         api.suspend_instance(ctxt, uuid)['state'])
        self.assertEqual('running',
                         api.resume_instance(ctxt, uuid)['state'])
        self.assertEqual('running',
                         api.reboot_instance(ctxt, uuid, hard=True)['state'])
        self.assertEqual('shutoff',
                         api.stop_instance(ctxt, uuid, timeout=0)['state'])
        self.assertEqual('running',
                         api.start_instance(ctxt, uuid)['state'])
        self.assertEqual('fake://image/t.iso', api.change_media(
            ctxt, uuid, 'sda', image='t.iso')['disks'][1]['path'])
        self.assertEqual('running',
                         api.commit_disk(ctxt, uuid, 'vda')['state'])
        self.assertEqual(3, len(api.attach_disk(ctxt, uuid,
                                                BLANK)['disks']))
        self.assertEqual(2, len(api.detach_disk(ctxt, uuid,
                                                'vdb')['disks']))
        self.assertIn('booting', api.get_console_output(
            ctxt, uuid, tail_lines=5, max_bytes=1000)['output'])
        self.assertEqual(1, api.get_host_status(ctxt)['instances'])
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         api.delete_instance(ctxt, uuid))

    def test_a_missing_context_is_made(self):
        self.assertEqual([], self.api.list_instances(None))

    def test_typed_errors(self):
        spec = agentfixtures.make_spec()
        error = self.assertRaises(exception.InvalidSpec,
                                  self.api.create_instance, self.ctxt,
                                  dict(spec, disks=[]))
        self.assertEqual('disks', error.field)
        self.assertIn('disks', error.message)
        self.assertRaises(exception.InstanceNotFound,
                          self.api.get_instance, self.ctxt, spec['uuid'])
        self.api.create_instance(self.ctxt, spec)
        self.assertRaises(exception.InstanceExists,
                          self.api.create_instance, self.ctxt,
                          dict(spec, name='other'))
        error = self.assertRaises(exception.InvalidState,
                                  self.api.resume_instance, self.ctxt,
                                  spec['uuid'])
        self.assertEqual(
            'Cannot resume instance %s while it is running.' % spec['uuid'],
            error.message)
        self.useFixture(fixtures.MockPatchObject(
            self.agent.driver, 'reboot',
            side_effect=exception.DriverError(reason='qemu hung')))
        error = self.assertRaises(exception.DriverError,
                                  self.api.reboot_instance, self.ctxt,
                                  spec['uuid'])
        self.assertIn('qemu hung', error.message)

    def test_casts(self):
        spec = agentfixtures.make_spec()
        uuid = spec['uuid']
        self.assertIsNone(self.api.create_instance(self.ctxt, spec,
                                                   cast=True))
        self.notifications.wait_for('instance.create.end')
        self.assertIsNone(self.api.pause_instance(self.ctxt, uuid,
                                                  cast=True))
        self.notifications.wait_for('instance.pause.end')
        self.assertEqual('paused',
                         self.api.get_instance(self.ctxt, uuid)['state'])
        self.assertIsNone(self.api.delete_instance(self.ctxt, uuid,
                                                   cast=True))
        self.notifications.wait_for('instance.delete.end')
        self.assertEqual([], self.api.list_instances(self.ctxt))

    def test_a_newer_cap_than_the_client_knows_is_refused(self):
        self.assertRaises(oslo_messaging.RPCVersionCapError,
                          rpcapi.ComputeAgentAPI(
                              rpcapi.get_transport(self.conf), 'test-host',
                              topic=self.conf.rpc_topic,
                              version_cap='0.9').list_instances, None)

    def test_no_agent_on_that_host(self):
        api = rpcapi.ComputeAgentAPI(rpcapi.get_transport(self.conf),
                                     'other-host',
                                     topic=self.conf.rpc_topic, timeout=1)
        self.assertRaises(oslo_messaging.MessagingTimeout,
                          api.list_instances, None)


class TestService(RpcTestCase):

    def client(self):
        transport, client = agentfixtures.plain_client(self.conf)
        self.addCleanup(transport.cleanup)
        return client

    def stopped_agent(self, func, driver=None):
        """Run ``func(agent)`` with an agent, then stop that agent."""
        agent = agentfixtures.AgentService(self.conf, driver=driver)
        agent.setUp()
        try:
            return func(agent)
        finally:
            agent.cleanUp()

    def test_records_survive_a_restart(self):
        client = self.client()
        kept, driver = self.stopped_agent(lambda agent: (client.call(
            {}, 'create_instance', spec=agentfixtures.make_spec()),
            agent.driver))
        # A new agent process; the hypervisor kept the guest running.
        self.useFixture(agentfixtures.AgentService(self.conf, driver=driver))
        self.assertEqual([kept], client.call({}, 'list_instances'))
        self.assertEqual('paused', client.call(
            {}, 'pause_instance', uuid=kept['uuid'])['state'])

    def test_a_forgetful_hypervisor_leaves_records_in_error(self):
        client = self.client()
        uuid = self.stopped_agent(lambda agent: client.call(
            {}, 'create_instance', spec=agentfixtures.make_spec()))['uuid']
        # A new fake driver knows no guests: start-up's sync sees that.
        self.start_agent()
        record = client.call({}, 'get_instance', uuid=uuid)
        self.assertEqual('error', record['state'])
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         client.call({}, 'delete_instance', uuid=uuid))

    def test_requests_in_flight_finish_on_stop(self):
        agent = self.start_agent()
        spawns = self.useFixture(agentfixtures.HeldCalls(agent.driver,
                                                         'spawn'))
        client = self.client()
        result = {}
        caller = threading.Thread(target=lambda: result.update(
            client.call({}, 'create_instance',
                        spec=agentfixtures.make_spec())))
        caller.start()
        spawns.wait_entered()
        stopper = threading.Thread(target=agent.service.stop)
        stopper.start()
        spawns.gate.set()
        stopper.join(agentfixtures.WAIT)
        caller.join(agentfixtures.WAIT)
        self.assertFalse(stopper.is_alive() or caller.is_alive())
        self.assertEqual('running', result['state'])


class TestSerialConsoleClient(RpcTestCase):
    """get_serial_console over the wire, and its 1.3 gate."""

    def setUp(self):
        super().setUp()
        self.start_agent()

    def api(self, version_cap=rpcapi.API_VERSION):
        return rpcapi.ComputeAgentAPI(
            rpcapi.get_transport(self.conf), 'test-host',
            topic=self.conf.rpc_topic, version_cap=version_cap)

    def test_the_client_and_a_plain_client_get_a_token(self):
        uuid = self.api().create_instance(None, agentfixtures.make_spec(
            serial_ports=[{'type': 'unix'}]))['uuid']
        answer = self.api().get_serial_console(None, uuid)
        self.assertEqual(0, answer['port'])
        self.assertIn('?token=%s' % answer['token'], answer['url'])
        transport, client = agentfixtures.plain_client(self.conf)
        self.addCleanup(transport.cleanup)
        plain = client.prepare(version='1.3').call(
            {}, 'get_serial_console', uuid=uuid, port=0)
        self.assertNotEqual(answer['token'], plain['token'])
        error = self.assertRaises(
            oslo_messaging.RemoteError, client.call, {},
            'get_serial_console', uuid=uuid, port=1)
        self.assertEqual('InvalidSpec', error.exc_type)

    def test_gated_at_1_3(self):
        self.assertRaises(oslo_messaging.RPCVersionCapError,
                          self.api('1.2').get_serial_console, None,
                          agentfixtures.new_uuid())


class TestBootOrderAndCommitAll(RpcTestCase):
    """API 1.3: set_boot_order and commit_disk without a target."""

    def setUp(self):
        super().setUp()
        self.start_agent()
        self.transport = rpcapi.get_transport(self.conf)
        self.addCleanup(self.transport.cleanup)
        self.ctxt = agentfixtures.context()
        spec = agentfixtures.make_spec(disks=[
            {'source': {'image': 'a'}, 'snapshot': True, 'boot_index': 1},
            {'source': {'blank': True}, 'size_mb': 8, 'snapshot': True}])
        self.uuid = spec['uuid']
        self.api().create_instance(self.ctxt, spec)

    def api(self, version_cap=rpcapi.API_VERSION):
        return rpcapi.ComputeAgentAPI(
            self.transport, 'test-host', topic=self.conf.rpc_topic,
            timeout=agentfixtures.CALL_TIMEOUT, version_cap=version_cap)

    def test_at_1_3(self):
        api = self.api()
        record = api.set_boot_order(self.ctxt, self.uuid, ['vdb', 'vda'])
        self.assertEqual([2, 1], [d['boot_index'] for d in record['disks']])
        commits = self.useFixture(fixtures.MockPatchObject(
            self.agent.driver, 'commit_disk',
            wraps=self.agent.driver.commit_disk)).mock
        self.assertEqual('running',
                         api.commit_disk(self.ctxt, self.uuid)['state'])
        self.assertEqual(['vda', 'vdb'],
                         [c[0][1] for c in commits.call_args_list])
        error = self.assertRaises(exception.InvalidSpec, api.set_boot_order,
                                  self.ctxt, self.uuid, ['vdc'])
        self.assertEqual('boot_order[0]', error.field)

    def test_capped_below_1_3(self):
        api = self.api(version_cap='1.2')
        self.assertRaises(oslo_messaging.RPCVersionCapError,
                          api.set_boot_order, self.ctxt, self.uuid, ['vdb'])
        self.assertRaises(oslo_messaging.RPCVersionCapError,
                          api.commit_disk, self.ctxt, self.uuid)
        # With a target, commit_disk is 1.0's.
        self.assertEqual('running', api.commit_disk(self.ctxt, self.uuid,
                                                    'vdb')['state'])

    def test_a_plain_client(self):
        transport, client = agentfixtures.plain_client(self.conf)
        self.addCleanup(transport.cleanup)
        client = client.prepare(version='1.3')
        record = client.call({}, 'set_boot_order', uuid=self.uuid,
                             boot_order=['vdb'])
        self.assertEqual([None, 1],
                         [d['boot_index'] for d in record['disks']])
        self.notifications.wait_for('instance.set_boot_order.end')
        self.assertEqual(record, client.call({}, 'commit_disk',
                                             uuid=self.uuid))
        error = self.assertRaises(oslo_messaging.RemoteError, client.call,
                                  {}, 'set_boot_order', uuid=self.uuid,
                                  boot_order='cxn')
        self.assertEqual('InvalidSpec', error.exc_type)
