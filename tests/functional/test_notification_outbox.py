"""Notifications survive a broker outage and a killed agent.

The agent's notifications go to a RabbitMQ node of the test's own
(tests/functional/private_rabbitmq.py), which the test stops and starts
again; its RPC stays on the shared broker, so creates are cast and
answered while the notification broker is down, and the notifications
are certainly pending when the test acts, with no race against the
creates. A controller drops a duplicate by the ``message_id`` of the
notification's metadata (docs/api.md, "Notifications").
"""

import os
import signal
import time

from computeagent.api import outboxlog
from tests.functional import base
from tests.functional import fixtures as ft_fixtures
from tests.functional import private_rabbitmq

OUTBOX = '.outbox'
WAIT = 120


class TestNotificationOutbox(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.broker = self.useFixture(private_rabbitmq.PrivateRabbitMQ())
        self.agent = self.useFixture(ft_fixtures.AgentFixture(
            'fake', notification_url=self.broker.url,
            options={'DEFAULT': {'report_interval': 0,
                                 'sync_power_state_interval': 0},
                     # Back soon after the broker is.
                     'notifications': {'retry_interval': 0.1,
                                       'retry_interval_max': 0.5}}))

    def cast_creates(self, count):
        """Cast ``count`` creates and wait (over RPC) until they ran."""
        uuids = [self.new_uuid() for _ in range(count)]
        for uuid in uuids:
            self.agent.cast('create_instance', spec={
                'uuid': uuid, 'disks': [{'source': {'image': 'a.img'}}]})
        deadline = time.monotonic() + WAIT
        while {r['uuid'] for r in self.agent.call('list_instances')
               if r['state'] == 'running'} != set(uuids):
            if time.monotonic() > deadline:
                raise AssertionError('the creates did not finish:\n%s'
                                     % self.agent.log_tail())
            time.sleep(0.1)
        return uuids

    def queued(self):
        """The outbox's messages on disk: ``{message_id: message}``."""
        directory = os.path.join(self.agent.instances_path, OUTBOX)
        return {data['message']['message_id']: data['message']
                for _seq, data, _segment
                in outboxlog.Scan(directory).pending}

    def creates_received(self, uuids):
        """Wait for every create.end; check each arrived once per id.

        :returns: ``{uuid: message_id}`` of the create.end notifications
        """
        for uuid in uuids:
            self.agent.notifications.wait_for(
                'instance.create.end', timeout=WAIT,
                predicate=lambda n: n['payload']['uuid'] == uuid)
        seen = {}
        order = {}
        for position, note in enumerate(self.agent.notifications.received):
            if not note['event_type'].startswith('instance.create.'):
                continue
            message_id = note['metadata']['message_id']
            key = (note['payload']['uuid'], note['event_type'])
            # A duplicate (sent again after an unconfirmed send) carries
            # the id of the first: one id per notification.
            self.assertEqual(seen.setdefault(key, message_id), message_id)
            order.setdefault(key, position)
        for uuid in uuids:
            self.assertLess(order[(uuid, 'instance.create.start')],
                            order[(uuid, 'instance.create.end')])
        return {uuid: seen[(uuid, 'instance.create.end')]
                for uuid in uuids}

    def test_every_create_end_arrives_after_a_broker_outage(self):
        self.broker.stop()
        uuids = self.cast_creates(4)
        pending = self.queued()
        self.assertEqual(
            set(uuids), {m['payload']['uuid'] for m in pending.values()
                         if m['event_type'] == 'instance.create.end'})
        self.assertEqual([], self.agent.notifications.of_type(
            'instance.create.end'))
        self.broker.start()
        ids = self.creates_received(uuids)
        # The ids are those the notifications had while they waited.
        self.assertTrue(set(ids.values()).issubset(pending))
        self.assertEqual(0, self.agent.call('get_host_status')[
            'notifications_dropped'])

    def test_pending_notifications_survive_a_killed_agent(self):
        self.broker.stop()
        uuids = self.cast_creates(3)
        self.assertEqual(-signal.SIGKILL, self.agent.stop(signal.SIGKILL))
        pending = self.queued()
        self.agent.start(wait=False)
        # The new process serves RPC (the shared broker) meanwhile.
        self.agent.call('list_instances', rpc_timeout=WAIT)
        self.broker.start()
        ids = self.creates_received(uuids)
        for uuid, message_id in ids.items():
            self.assertEqual(uuid, pending[message_id]['payload']['uuid'])
