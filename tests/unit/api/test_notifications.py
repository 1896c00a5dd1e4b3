"""Tests of the notifications of docs/api.md (computeagent.api.notifications).

They are captured with oslo.messaging's ``test`` notifier driver, except
where the default ``messagingv2`` driver itself is under test.
"""

import threading

import fixtures
import oslo_messaging
from oslo_messaging.notify import _impl_test
from oslo_messaging.notify import messaging as notify_messaging

from computeagent.api import context
from computeagent.api import notifications
from computeagent import exception
from computeagent.objects import record as record_obj
from tests import base
from tests.unit import agentfixtures

PUBLISHER = 'computeagent.test-host'


class NotificationsTestCase(agentfixtures.ManagerTestCase):

    def setUp(self):
        super().setUp()
        self.ctxt = agentfixtures.context(request_id='req-42')

    def assertRecordPayload(self, payload, uuid, state):
        self.assertTrue(set(record_obj.RECORD_KEYS).issubset(payload),
                        payload)
        self.assertEqual((uuid, state), (payload['uuid'],
                                         payload['state']))


class TestInstanceNotifications(NotificationsTestCase):

    def test_create(self):
        record = self.create()
        self.assertEqual(['instance.create.start', 'instance.create.end'],
                         self.notifications.event_types())
        (ctxt, start, priority), (_c, end, end_priority) = \
            self.notifications.all
        self.assertEqual(('INFO', 'INFO'), (priority, end_priority))
        self.assertEqual(PUBLISHER, start['publisher_id'])
        self.assertEqual('req-42', ctxt['request_id'])
        self.assertRecordPayload(start['payload'], record['uuid'],
                                 'building')
        timings = end['payload'].pop('timings')
        self.assertEqual(record, end['payload'])
        self.assertEqual({'queued', 'spawn'}, set(timings))
        for seconds in timings.values():
            self.assertIsInstance(seconds, float)
            self.assertGreaterEqual(seconds, 0.0)

    def test_a_failed_create(self):
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'spawn',
            side_effect=exception.DriverError(reason='no bridge br9')))
        uuid = agentfixtures.new_uuid()
        self.assertRaises(exception.DriverError, self.create, uuid,
                          name='web')
        self.assertEqual(['instance.create.start', 'instance.create.error'],
                         self.notifications.event_types())
        _ctxt, error, priority = self.notifications.all[1]
        self.assertEqual('ERROR', priority)
        self.assertEqual('req-42', _ctxt['request_id'])
        payload = error['payload']
        self.assertRecordPayload(payload, uuid, 'error')
        self.assertEqual('web', payload['name'])
        self.assertIn('no bridge br9', payload['error'])
        self.assertEqual('DriverError', payload['error_type'])

    def test_a_refused_create(self):
        # A cast's caller learns of a refusal only from the notification.
        uuid = agentfixtures.new_uuid()
        self.assertRaises(exception.InvalidSpec, self.create, uuid,
                          vcpus=0)
        self.flags(reserved_host_memory_mb=10 ** 7)
        self.assertRaises(exception.InsufficientResources, self.create,
                          uuid)
        self.assertEqual(['instance.create.error'] * 2,
                         self.notifications.event_types())
        invalid, insufficient = self.notifications.payloads(
            'instance.create.error')
        self.assertEqual((uuid, 'InvalidSpec'),
                         (invalid['uuid'], invalid['error_type']))
        self.assertIn('vcpus', invalid['error'])
        self.assertEqual('InsufficientResources',
                         insufficient['error_type'])

    def test_a_create_with_a_known_uuid_does_not_call_it_broken(self):
        spec = agentfixtures.make_spec()
        self.call('create_instance', spec=spec)
        self.assertRaises(exception.InstanceExists, self.call,
                          'create_instance', spec=dict(spec, vcpus=2))
        refused, = self.notifications.payloads('instance.create.error')
        self.assertEqual('InstanceExists', refused['error_type'])
        # The running instance is not "error"; the refusal has no state.
        self.assertIsNone(refused['state'])
        self.assertEqual('running', self.call(
            'get_instance', uuid=spec['uuid'])['state'])

    def test_a_repeated_create_sends_nothing(self):
        spec = agentfixtures.make_spec()
        self.call('create_instance', spec=spec)
        self.call('create_instance', spec=spec)
        self.assertEqual(['instance.create.start', 'instance.create.end'],
                         self.notifications.event_types())

    def test_a_repeated_create_answers_as_the_guest_is_now(self):
        spec = agentfixtures.make_spec()
        self.call('create_instance', spec=spec)
        agentfixtures.set_guest_state(self.driver, spec['uuid'], 'shutoff')
        record = self.call('create_instance', spec=spec)
        self.assertEqual('shutoff', record['state'])
        update, = self.notifications.payloads('instance.power_state.update')
        self.assertEqual(('running', 'shutoff'),
                         (update['old_state'], update['state']))

    def test_a_change_found_at_an_operations_start_is_notified(self):
        uuid = self.create()['uuid']
        agentfixtures.set_guest_state(self.driver, uuid, 'paused')
        self.call('unpause_instance', uuid=uuid)
        self.assertEqual(
            ['instance.power_state.update', 'instance.unpause.start',
             'instance.unpause.end'],
            self.notifications.event_types()[2:])

    def test_an_unexpected_failure_is_named_as_the_caller_sees_it(self):
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'spawn', side_effect=KeyError('k')))
        uuid = agentfixtures.new_uuid()
        error = self.assertRaises(exception.DriverError, self.create, uuid)
        payload, = self.notifications.payloads('instance.create.error')
        self.assertEqual(('DriverError', str(error)),
                         (payload['error_type'], payload['error']))

    def test_delete(self):
        record = self.create()
        self.call('delete_instance', uuid=record['uuid'])
        self.assertEqual(['instance.delete.start', 'instance.delete.end'],
                         self.notifications.event_types()[2:])
        start, end = (self.notifications.payloads(t)[0] for t in (
            'instance.delete.start', 'instance.delete.end'))
        self.assertEqual(record, start)
        self.assertRecordPayload(end, record['uuid'], 'deleted')

    def test_a_failed_delete(self):
        uuid = self.create()['uuid']
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'destroy', side_effect=RuntimeError('busy')))
        self.assertRaises(exception.DriverError, self.call,
                          'delete_instance', uuid=uuid)
        error = self.notifications.payloads('instance.delete.error')[0]
        # The record as the failure left it, and the error the caller got.
        self.assertRecordPayload(error, uuid, 'error')
        self.assertEqual('DriverError', error['error_type'])
        self.assertEqual('The hypervisor refused: RuntimeError: busy',
                         error['error'])

    def test_power_operations(self):
        uuid = self.create()['uuid']
        calls = [('reboot_instance', {}, 'reboot', 'running'),
                 ('reboot_instance', {'hard': True}, 'reboot', 'running'),
                 ('pause_instance', {}, 'pause', 'paused'),
                 ('unpause_instance', {}, 'unpause', 'running'),
                 ('suspend_instance', {}, 'suspend', 'suspended'),
                 ('resume_instance', {}, 'resume', 'running'),
                 ('stop_instance', {}, 'power_off', 'shutoff'),
                 ('start_instance', {}, 'power_on', 'running')]
        expected = []
        for method, kwargs, action, state in calls:
            before = self.call('get_instance', uuid=uuid)
            after = self.call(method, uuid=uuid, **kwargs)
            self.assertEqual(state, after['state'])
            start, end = self.notifications.messages()[-2:]
            self.assertEqual(before, start['payload'])
            self.assertEqual(after, end['payload'])
            expected += ['instance.%s.start' % action,
                         'instance.%s.end' % action]
        self.assertEqual(expected, self.notifications.event_types()[2:])

    def test_a_refused_power_operation(self):
        uuid = self.create()['uuid']
        self.assertRaises(exception.InvalidState, self.call,
                          'resume_instance', uuid=uuid)
        self.assertEqual(['instance.resume.error'],
                         self.notifications.event_types()[2:])
        error = self.notifications.payloads('instance.resume.error')[0]
        self.assertRecordPayload(error, uuid, 'running')
        self.assertEqual('InvalidState', error['error_type'])

    def test_disk_operations(self):
        uuid = self.create(disks=[
            {'source': {'image': 'a'}, 'snapshot': True},
            {'source': {'blank': True}, 'device': 'cdrom'}])['uuid']
        attached = self.call('attach_disk', uuid=uuid,
                             disk={'source': {'blank': True},
                                   'size_mb': 1})
        detached = self.call('detach_disk', uuid=uuid, target='vdb')
        # change_media and commit_disk are not among docs/api.md's actions.
        self.call('change_media', uuid=uuid, target='sda', image='x.iso')
        self.call('commit_disk', uuid=uuid, target='vda')
        self.call('commit_disk', uuid=uuid)
        self.assertEqual(['instance.attach_disk.start',
                          'instance.attach_disk.end',
                          'instance.detach_disk.start',
                          'instance.detach_disk.end'],
                         self.notifications.event_types()[2:])
        self.assertEqual(attached, self.notifications.payloads(
            'instance.attach_disk.end')[0])
        self.assertEqual(detached, self.notifications.payloads(
            'instance.detach_disk.end')[0])
        self.assertRaises(exception.InvalidSpec, self.call, 'detach_disk',
                          uuid=uuid, target='vdq')
        error = self.notifications.payloads('instance.detach_disk.error')
        self.assertEqual('InvalidSpec', error[0]['error_type'])

    def test_reads_send_nothing(self):
        uuid = self.create()['uuid']
        self.call('get_instance', uuid=uuid)
        self.call('list_instances')
        self.call('get_console_output', uuid=uuid)
        self.call('get_host_status')
        self.call('render_instance', spec=agentfixtures.make_spec())
        self.assertEqual(2, len(self.notifications.all))

    def test_a_notification_that_cannot_be_sent(self):
        # Losing a notification never fails the operation it reports on,
        # whether the notification driver or the notifier itself fails;
        # each loss is counted in the host status.
        with fixtures.MockPatchObject(
                _impl_test.TestDriver, 'notify',
                side_effect=RuntimeError('broker gone')):
            uuid = self.create()['uuid']
        with fixtures.MockPatchObject(
                self.manager.notifier._serializer, 'serialize_entity',
                side_effect=RuntimeError('serializer broke')):
            self.call('pause_instance', uuid=uuid)
            self.call('delete_instance', uuid=uuid)
        self.assertIsNone(self.store.get(uuid))
        self.assertEqual([], self.notifications.all)
        self.assertEqual(6, self.call('get_host_status')[
            'notifications_dropped'])


class TestHostStatus(base.TestCase):

    def setUp(self):
        super().setUp()
        self.transport = self.useFixture(
            agentfixtures.FakeTransport(self.conf))
        self.notifications = self.transport.notifications

    def test_sent_at_start_and_every_report_interval(self):
        agent = self.useFixture(agentfixtures.AgentService(
            self.conf, report_interval=1))
        agent.endpoint.create_instance(
            agentfixtures.context(), spec=agentfixtures.make_spec())
        first = self.notifications.wait_for('compute.host.status')[0]
        self.assertEqual(PUBLISHER, first['publisher_id'])
        self.assertEqual('INFO', first['priority'])
        self.assertEqual(0, first['payload']['instances'])
        # A later report counts the instance.
        later = self.notifications.wait_for(
            'compute.host.status',
            match=lambda m: m['payload']['instances'] == 1)[0]
        status = agent.manager.host_status()
        self.assertEqual(status, later['payload'])
        self.assertEqual(('test-host', 'fake'),
                         (status['host'], status['driver']))

    def test_not_repeated_when_the_interval_is_zero(self):
        agent = self.useFixture(agentfixtures.AgentService(self.conf))
        self.notifications.wait_for('compute.host.status')
        # Stopping sends what is queued: then nothing more is coming.
        self.assertEqual(0, agent.service.notifier.stop(agentfixtures.WAIT))
        self.assertEqual(1, len(self.notifications.messages(
            'compute.host.status')))


class _Endpoint(object):

    def __init__(self):
        self.received = []
        self.event = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.received.append((ctxt, publisher_id, event_type, payload))
        self.event.set()


class TestDefaultDriver(base.TestCase):

    def test_messagingv2_when_no_driver_is_configured(self):
        self.useFixture(agentfixtures.FakeTransport(self.conf))
        # The operator chose none: the agent's default applies.
        self.conf.clear_override('driver',
                                 group='oslo_messaging_notifications')
        self.assertEqual([], self.conf.oslo_messaging_notifications.driver)
        transport = oslo_messaging.get_notification_transport(self.conf)
        self.addCleanup(transport.cleanup)
        endpoint = _Endpoint()
        listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic='notifications')],
            [endpoint], executor='threading')
        listener.start()
        self.addCleanup(listener.wait)
        self.addCleanup(listener.stop)
        notifier = notifications.Notifier(
            self.conf, transport, 'node-1',
            serializer=context.RequestContextSerializer())
        notifier.instance(agentfixtures.context(request_id='req-7'),
                          'pause', 'end', {'uuid': 'u', 'state': 'paused'})
        self.assertTrue(endpoint.event.wait(agentfixtures.WAIT))
        ctxt, publisher, event_type, payload = endpoint.received[0]
        self.assertEqual('computeagent.node-1', publisher)
        self.assertEqual('instance.pause.end', event_type)
        self.assertEqual({'uuid': 'u', 'state': 'paused'}, payload)
        self.assertEqual('req-7', ctxt['request_id'])

    def test_the_operators_choice_is_kept(self):
        fake = self.useFixture(agentfixtures.FakeTransport(self.conf))
        transport = oslo_messaging.get_notification_transport(self.conf)
        notifier = notifications.Notifier(self.conf, transport, 'node-1')
        notifier.host_status(agentfixtures.context(), {'host': 'node-1'})
        self.assertEqual(
            [('compute.host.status', {'host': 'node-1'})],
            [(m['event_type'], m['payload'])
             for _c, m, _p in fake.notifications.all])


class TestTheDriversOwnPublish(base.TestCase):
    """notifications.Drivers calls what oslo.messaging's driver calls.

    The agent publishes through ``Transport._send_notification``, the
    call every messaging notifier driver makes, because the driver's
    ``notify`` swallows a failed send and the outbox must see it. This
    fails when oslo.messaging's driver stops publishing that way, so the
    copy is looked at again before an upgrade lands.
    """

    def test_the_messaging_driver_publishes_through_the_transport(self):
        self.useFixture(agentfixtures.FakeTransport(self.conf))
        transport = oslo_messaging.get_notification_transport(self.conf)
        self.addCleanup(transport.cleanup)
        sent = []
        self.useFixture(fixtures.MockPatchObject(
            transport, '_send_notification',
            side_effect=lambda *args, **kwargs: sent.append(
                (args, kwargs))))
        driver = notify_messaging.MessagingV2Driver(
            self.conf, topics=['notifications'], transport=transport)
        driver.notify({'c': 1}, {'m': 2}, 'INFO', retry=0)
        self.conf.set_override('driver', ['messagingv2'],
                               group='oslo_messaging_notifications')
        self.addCleanup(self.conf.clear_override, 'driver',
                        group='oslo_messaging_notifications')
        ours = notifications.Drivers(self.conf, transport)
        ours.send({'ctxt': {'c': 1}, 'message': {'m': 2},
                   'priority': 'INFO'}, retry=0)
        self.assertEqual(2, len(sent))
        self.assertEqual(sent[0], sent[1])
        (target, ctxt, message), kwargs = sent[0]
        self.assertEqual(('notifications.info', {'c': 1}, {'m': 2},
                          {'version': 2.0, 'retry': 0}),
                         (target.topic, ctxt, message, kwargs))
