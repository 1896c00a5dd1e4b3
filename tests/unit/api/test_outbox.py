"""Tests of the durable notification outbox (computeagent.api.outbox).

The broker is oslo.messaging's ``fake:`` transport with the default
``messagingv2`` driver and a real notification listener. A broker that
is down is one whose driver raises what the rabbit driver raises when it
cannot publish: ``MessageDeliveryFailure``.
"""

import json
import os
import threading

import fixtures
import oslo_messaging
from oslo_messaging._drivers import impl_fake

from computeagent.api import context
from computeagent.api import notifications
from computeagent.api import outbox as outbox_mod
from computeagent.api import outboxlog
from tests import base
from tests.unit import agentfixtures


class Broker(fixtures.Fixture):
    """The fake transport's notifications, and a switch to take it down.

    While ``down`` is set, a publish fails with MessageDeliveryFailure;
    while ``gate`` is clear, a publish waits for it (``entered`` is set
    once one waits).
    """

    def _setUp(self):
        self.down = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.addCleanup(self.gate.set)
        self.entered = threading.Event()
        self.attempts = []
        original = impl_fake.FakeDriver.send_notification
        broker = self

        def send_notification(driver, target, ctxt, message, version,
                              retry=None):
            broker.attempts.append((message['message_id'],
                                    threading.current_thread()))
            broker.entered.set()
            if not broker.gate.wait(agentfixtures.WAIT):
                raise AssertionError('a publish was held too long')
            if broker.down.is_set():
                raise oslo_messaging.MessageDeliveryFailure(
                    'Unable to connect to AMQP server')
            return original(driver, target, ctxt, message, version, retry)
        self.useFixture(fixtures.MonkeyPatch(
            'oslo_messaging._drivers.impl_fake.FakeDriver.'
            'send_notification', send_notification))


class Listener(object):
    """A controller's notification endpoint."""

    def __init__(self):
        self.received = []
        self._cond = threading.Condition()

    def _record(self, event_type, payload, metadata):
        with self._cond:
            self.received.append((event_type, payload, metadata))
            self._cond.notify_all()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record(event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record(event_type, payload, metadata)

    def wait_for(self, count):
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.received) >= count,
                                       agentfixtures.WAIT):
                raise AssertionError('%d of %d notifications arrived'
                                     % (len(self.received), count))
            return list(self.received)


class OutboxTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(agentfixtures.FakeTransport(self.conf))
        # The operator names no driver: the agent's messagingv2 applies.
        self.conf.clear_override('driver',
                                 group='oslo_messaging_notifications')
        self.flags(retry_interval=0.01, retry_interval_max=0.05,
                   group='notifications')
        self.broker = self.useFixture(Broker())
        self.transport = oslo_messaging.get_notification_transport(
            self.conf)
        self.addCleanup(self.transport.cleanup)
        self.path = outbox_mod.path_in(self.conf.instances_path)

    def listen(self):
        listener = Listener()
        server = oslo_messaging.get_notification_listener(
            self.transport, [oslo_messaging.Target(topic='notifications')],
            [listener], executor='threading')
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        return listener

    def notifier(self, max_items=100, start=True):
        """A Notifier with an outbox in ``self.path``; stopped at cleanup."""
        outbox = outbox_mod.Outbox(self.path, max_items)
        notifier = notifications.Notifier(
            self.conf, self.transport, 'node-1',
            serializer=context.RequestContextSerializer(), outbox=outbox)
        if start:
            notifier.start()
            self.addCleanup(notifier.stop, 0)
        return notifier

    def send(self, notifier, count, action='create'):
        """``count`` instance.<action>.end notifications; their uuids."""
        uuids = [agentfixtures.new_uuid() for _ in range(count)]
        for uuid in uuids:
            notifier.instance(agentfixtures.context(), action, 'end',
                              {'uuid': uuid, 'state': 'running'})
        return uuids

    def queued(self):
        """What the outbox's files hold, not yet sent, in order."""
        return [data for _seq, data, _segment
                in outboxlog.Scan(self.path).pending]

    def queued_ids(self):
        """The ids of the messages in the outbox's files, in order."""
        return [data['message']['message_id'] for data in self.queued()]


class TestDelivery(OutboxTestCase):

    def test_delivered_in_order_after_an_outage_each_with_its_id(self):
        listener = self.listen()
        self.broker.down.set()
        notifier = self.notifier()
        uuids = self.send(notifier, 5)
        queued = self.queued_ids()
        self.assertEqual(5, len(set(queued)))
        self.broker.down.clear()
        received = listener.wait_for(5)
        self.assertEqual(uuids, [payload['uuid']
                                 for _t, payload, _m in received])
        self.assertEqual(queued, [metadata['message_id']
                                  for _t, _p, metadata in received])
        # The payload is the record as before: the id is oslo.messaging's
        # own message_id, not a key of the payload.
        self.assertEqual({'uuid': uuids[0], 'state': 'running'},
                         received[0][1])
        self.assertEqual(0, notifier.stop(agentfixtures.WAIT))
        self.assertEqual([], self.queued())

    def test_a_retried_message_keeps_its_id(self):
        self.broker.down.set()
        notifier = self.notifier()
        self.send(notifier, 1)
        queued, = self.queued_ids()
        # At least one attempt failed before the broker is back.
        self.assertTrue(self.broker.entered.wait(agentfixtures.WAIT))
        listener = self.listen()
        self.broker.down.clear()
        listener.wait_for(1)
        attempts = {message_id for message_id, _t in self.broker.attempts}
        self.assertEqual({queued}, attempts)
        self.assertGreater(len(self.broker.attempts), 1)

    def test_a_send_does_not_wait_for_the_broker(self):
        self.broker.gate.clear()
        listener = self.listen()
        notifier = self.notifier()
        # The caller is back while the publish is held.
        self.send(notifier, 1)
        self.assertTrue(self.broker.entered.wait(agentfixtures.WAIT))
        self.assertEqual([], listener.received)
        self.broker.gate.set()
        listener.wait_for(1)
        (_id, thread), = self.broker.attempts
        self.assertEqual('notification-sender', thread.name)

    def test_the_error_priority(self):
        listener = self.listen()
        notifier = self.notifier()
        notifier.instance(agentfixtures.context(), 'create', 'error',
                          {'uuid': 'u', 'state': 'error'},
                          error='no', error_type='DriverError')
        (event_type, payload, _m), = listener.wait_for(1)
        self.assertEqual('instance.create.error', event_type)
        self.assertEqual('DriverError', payload['error_type'])


class TestRestart(OutboxTestCase):

    def test_a_new_outbox_delivers_what_the_old_one_left(self):
        self.broker.down.set()
        old = self.notifier()
        uuids = self.send(old, 3)
        # Stopping gives up at once while the broker is down; the
        # messages stay on disk.
        self.assertEqual(3, old.stop(0))
        queued = self.queued_ids()
        self.assertEqual(3, len(queued))
        self.broker.down.clear()
        listener = self.listen()
        new = self.notifier()
        later = self.send(new, 1)
        received = listener.wait_for(4)
        self.assertEqual(uuids + later,
                         [payload['uuid'] for _t, payload, _m in received])
        self.assertEqual(queued, [metadata['message_id']
                                  for _t, _p, metadata in received[:3]])

    def test_a_half_written_file_is_removed_not_sent(self):
        os.makedirs(self.path)
        half = os.path.join(self.path, outboxlog.LEGACY_TEMP_PREFIX + 'abc')
        with open(half, 'w') as f:
            f.write('{"ctxt": {}, "mess')
        listener = self.listen()
        notifier = self.notifier()
        self.assertFalse(os.path.exists(half))
        uuids = self.send(notifier, 1)
        received = listener.wait_for(1)
        self.assertEqual(uuids, [p['uuid'] for _t, p, _m in received])
        self.assertEqual(0, notifier.dropped)

    def test_an_unreadable_file_is_dropped_and_counted(self):
        os.makedirs(self.path)
        with open(os.path.join(self.path, '%020d.json' % 7), 'w') as f:
            f.write('not json')
        outbox = outbox_mod.Outbox(self.path, 10)
        self.assertEqual((0, 1), (len(outbox), outbox.dropped))
        # Numbering goes on after what the directory held.
        self.assertEqual(1, outbox.put({'n': 1}).seq)

    def test_numbering_goes_on_after_a_restart(self):
        first = outbox_mod.Outbox(self.path, 10)
        first.put({'n': 1})
        first.put({'n': 2})
        second = outbox_mod.Outbox(self.path, 10)
        self.assertEqual(3, second.put({'n': 3}).seq)
        self.assertEqual([1, 2, 3], [seq for seq, _d, _s in
                                     outboxlog.Scan(self.path).pending])

    def test_the_first_outboxs_files_are_moved_into_the_log(self):
        # An upgrade: messages queued one file each are sent, in order,
        # before anything newer, and the files are gone.
        os.makedirs(self.path)
        for seq in (4, 5):
            with open(os.path.join(self.path, '%020d.json' % seq),
                      'w') as f:
                json.dump({'n': seq}, f)
        outbox = outbox_mod.Outbox(self.path, 10)
        self.assertEqual(6, outbox.put({'n': 6}).seq)
        self.assertFalse([name for name in os.listdir(self.path)
                          if name.endswith('.json')])
        stop = threading.Event()
        taken = []
        for _ in range(3):
            entry = outbox.take(stop)
            taken.append(entry.data)
            outbox.done(entry)
        self.assertEqual([{'n': 4}, {'n': 5}, {'n': 6}], taken)
        self.assertEqual([], self.queued())

    def reopened_after(self, tail):
        """An outbox reopened after ``tail`` was added to its one segment.

        :returns: (the new Outbox, the old Segment)
        """
        outbox = outbox_mod.Outbox(self.path, 10)
        outbox.put({'n': 1})
        segment, = outbox._log.segments()
        with open(segment.log_path, 'ab') as f:
            f.write(tail)
        return outbox_mod.Outbox(self.path, 10), segment

    def test_a_line_cut_short_by_a_crash_is_cut_off(self):
        again, segment = self.reopened_after(b'{"data": {"n": 2}, "se')
        self.assertEqual((1, 0), (len(again), again.dropped))
        self.assertEqual(segment.size, os.path.getsize(segment.log_path))
        # The next message is whole after the cut.
        again.put({'n': 3})
        self.assertEqual([{'n': 1}, {'n': 3}], self.queued())

    def test_a_line_that_is_not_json_is_dropped_and_counted(self):
        again, _segment = self.reopened_after(b'garbage\n')
        self.assertEqual((1, 1), (len(again), again.dropped))

    def test_what_was_sent_is_not_sent_again(self):
        first = outbox_mod.Outbox(self.path, 10)
        for n in range(3):
            first.put({'n': n})
        first.done(first.take(threading.Event()))
        second = outbox_mod.Outbox(self.path, 10)
        self.assertEqual({'n': 1}, second.take(threading.Event()).data)
        self.assertEqual(2, len(second))


class TestSegments(OutboxTestCase):

    def test_full_segments_give_way_and_go_once_sent(self):
        self.useFixture(fixtures.MonkeyPatch(
            'computeagent.api.outboxlog.SEGMENT_BYTES', 100))
        outbox = outbox_mod.Outbox(self.path, 100)
        for n in range(5):
            outbox.put({'n': n, 'pad': 'x' * 80})
        self.assertEqual(5, len(outbox._log.segments()))
        stop = threading.Event()
        for n in range(5):
            outbox.done(outbox.take(stop))
        # Only the one being written to stays, its messages done.
        self.assertEqual(1, len(outbox._log.segments()))
        self.assertEqual(2, len(os.listdir(self.path)))
        self.assertEqual([], self.queued())
        # Nothing left to send after a restart either; the empty
        # segment goes.
        again = outbox_mod.Outbox(self.path, 100)
        self.assertEqual(0, len(again))
        self.assertEqual([], os.listdir(self.path))
        self.assertEqual(6, again.put({'n': 5}).seq)


class TestBound(OutboxTestCase):

    def test_the_oldest_are_dropped_and_counted(self):
        self.broker.down.set()
        notifier = self.notifier(max_items=2, start=False)
        uuids = self.send(notifier, 5)
        self.assertEqual(3, notifier.dropped)
        self.assertEqual(2, len(self.queued()))
        listener = self.listen()
        self.broker.down.clear()
        notifier.start()
        self.addCleanup(notifier.stop, 0)
        received = listener.wait_for(2)
        self.assertEqual(uuids[3:], [p['uuid'] for _t, p, _m in received])

    def test_the_message_being_sent_is_not_dropped(self):
        outbox = outbox_mod.Outbox(self.path, 2)
        first = outbox.put({'n': 1})
        stop = threading.Event()
        self.assertIs(first, outbox.take(stop))
        outbox.put({'n': 2})
        outbox.put({'n': 3})
        self.assertEqual((2, 1), (len(outbox), outbox.dropped))
        outbox.done(first)
        self.assertEqual({'n': 3}, outbox.take(stop).data)

    def test_a_smaller_bound_at_start(self):
        big = outbox_mod.Outbox(self.path, 10)
        for n in range(4):
            big.put({'n': n})
        small = outbox_mod.Outbox(self.path, 1)
        self.assertEqual((1, 3), (len(small), small.dropped))
        self.assertEqual({'n': 3}, small.take(threading.Event()).data)

    def test_the_count_is_in_the_host_status(self):
        self.broker.down.set()
        self.flags(outbox_max=1, group='notifications')
        agent = self.useFixture(agentfixtures.AgentService(self.conf))
        # compute.host.status at start, then create's start and end.
        agent.endpoint.create_instance(agentfixtures.context(),
                                       spec=agentfixtures.make_spec())
        status = agent.endpoint.get_host_status(agentfixtures.context())
        self.assertEqual(2, status['notifications_dropped'])


class TestConcurrentPuts(base.TestCase):
    """Puts sync at once; the queue's order still holds."""

    def setUp(self):
        super().setUp()
        self.outbox = outbox_mod.Outbox(os.path.join(self.tmp, 'outbox'),
                                        max_items=10)
        self.release = threading.Event()
        self.addCleanup(self.release.set)
        self.first_writing = threading.Event()
        self.fail_first = False
        real_sync = outboxlog.Segment.sync
        syncs = []
        test = self

        def sync(segment):
            syncs.append(segment)
            if len(syncs) == 1:
                test.first_writing.set()
                if not test.release.wait(agentfixtures.WAIT):
                    raise AssertionError('never released')
                if test.fail_first:
                    raise OSError(5, 'Input/output error')
            return real_sync(segment)
        self.useFixture(fixtures.MonkeyPatch(
            'computeagent.api.outboxlog.Segment.sync', sync))

    def put_first(self):
        errors = []

        def put():
            try:
                self.outbox.put({'n': 1})
            except OSError as error:
                errors.append(error)
        thread = threading.Thread(target=put)
        thread.start()
        self.addCleanup(thread.join, agentfixtures.WAIT)
        self.assertTrue(self.first_writing.wait(agentfixtures.WAIT))
        return thread, errors

    def take_later(self):
        taken = []
        stop = threading.Event()
        thread = threading.Thread(
            target=lambda: taken.append(self.outbox.take(stop)))
        thread.start()
        self.addCleanup(thread.join, agentfixtures.WAIT)
        self.addCleanup(self.outbox.wake)
        self.addCleanup(stop.set)
        return thread, taken

    def test_a_put_does_not_wait_for_an_earlier_ones_sync(self):
        first, _errors = self.put_first()
        # Synced while the first is still being synced.
        self.assertEqual(2, self.outbox.put({'n': 2}).seq)
        taker, taken = self.take_later()
        taker.join(0.2)
        self.assertTrue(taker.is_alive(),
                        'the second was taken before the first')
        self.release.set()
        first.join(agentfixtures.WAIT)
        taker.join(agentfixtures.WAIT)
        self.assertEqual([{'n': 1}], [entry.data for entry in taken])

    def test_a_failed_write_lets_the_next_one_go(self):
        self.fail_first = True
        first, errors = self.put_first()
        self.outbox.put({'n': 2})
        taker, taken = self.take_later()
        self.release.set()
        first.join(agentfixtures.WAIT)
        taker.join(agentfixtures.WAIT)
        self.assertEqual(1, len(errors))
        self.assertEqual([{'n': 2}], [entry.data for entry in taken])
        self.assertEqual(1, len(self.outbox))
        # Nor is it sent after a restart.
        again = outbox_mod.Outbox(self.outbox.path, 10)
        self.assertEqual({'n': 2}, again.take(threading.Event()).data)
        self.assertEqual(1, len(again))

    def test_the_bound_drops_no_message_being_written(self):
        self.outbox.max_items = 1
        first, _errors = self.put_first()
        self.outbox.put({'n': 2})
        # Over the bound with the first still being written: the
        # second, whole, is the one dropped.
        self.assertEqual(1, self.outbox.dropped)
        self.release.set()
        first.join(agentfixtures.WAIT)
        self.assertEqual(1, len(self.outbox))
