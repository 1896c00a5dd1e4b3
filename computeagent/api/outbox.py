"""A durable, bounded, ordered queue of outgoing messages, and its sender.

The notifier (:mod:`computeagent.api.notifications`) puts every
notification here before anything is sent, and a :class:`Sender` thread
delivers them oldest first, removing each only once it has been taken,
so neither a broker outage nor an agent restart loses one.

The queue is kept in one directory by
:mod:`computeagent.api.outboxlog`: each message is a line appended to a
segment file and synced before :meth:`Outbox.put` returns, numbered by
a sequence number that only grows, also for the next process; a crash
leaves every message whose put returned and perhaps the start of one
that never did, which is cut off.

Delivery is at least once: a message sent but killed before it was noted
as sent is sent again by the next process, with the same content, so a
receiver recognises it by the id inside (docs/api.md, "Notifications").
"""

import os
import threading

from oslo_log import log as logging

from computeagent.api import outboxlog

LOG = logging.getLogger(__name__)

#: the outbox's directory under ``[DEFAULT] instances_path``
DIRECTORY = '.outbox'


def path_in(instances_path, host=None):
    """The outbox directory of an agent keeping its state there.

    :param host: this host's name if the instances path is shared with
        other hosts, each having an outbox of its own there
    """
    if host is None:
        return os.path.join(instances_path, DIRECTORY)
    return os.path.join(instances_path, '%s.%s' % (DIRECTORY, host))


class Entry(object):
    """One queued message: its sequence number and its content.

    :param segment: the outboxlog.Segment holding it
    :param written: whether it is durable; a message is sent, or dropped
        over the bound, only once it is
    """

    def __init__(self, seq, data, segment, written=True):
        self.seq = seq
        self.data = data
        self.segment = segment
        self.written = written


class Outbox(object):
    """The queue in one directory, with a copy of it in memory.

    :param path: the directory; made if missing
    :param max_items: the most messages kept; putting one more drops the
        oldest that is not being sent at that moment
    """

    def __init__(self, path, max_items):
        self.path = path
        self.max_items = max_items
        #: messages dropped over the bound (or unreadable) since start
        self.dropped = 0
        self._cond = threading.Condition()
        self._in_flight = None
        os.makedirs(path, mode=0o700, exist_ok=True)
        self._log = outboxlog.Log(path)
        pending, last_seq, unreadable = self._log.open()
        self.dropped += unreadable
        self._entries = [Entry(seq, data, segment)
                         for seq, data, segment in pending]
        self._next_seq = last_seq + 1
        if self._entries:
            LOG.info('%(count)d notifications are waiting in %(path)s',
                     {'count': len(self._entries), 'path': self.path})
        self._enforce_bound()

    def __len__(self):
        with self._cond:
            return len(self._entries)

    def put(self, data):
        """Queue ``data`` durably, after every message queued before.

        :param data: a JSON-serialisable dict
        :returns: the new Entry
        :raises: TypeError or ValueError if ``data`` is not JSON;
            OSError if it cannot be written (nothing is queued then)
        """
        # The place in the queue is taken and the line appended under the
        # lock, the sync is made outside it: puts of concurrent
        # operations sync at once instead of one after another. Order
        # still holds, since the sender takes only the oldest message,
        # once it is durable.
        with self._cond:
            seq = self._next_seq
            segment = self._log.append(seq, data)
            self._next_seq += 1
            entry = Entry(seq, data, segment, written=False)
            self._entries.append(entry)
        try:
            segment.sync()
        except BaseException:
            with self._cond:
                # Never sent, now or after a restart.
                self._entries.remove(entry)
                self._log.mark_done(entry.seq, entry.segment)
                self._cond.notify_all()
            raise
        with self._cond:
            entry.written = True
            self._enforce_bound()
            self._cond.notify_all()
        return entry

    def _enforce_bound(self):
        """Drop the oldest messages not being sent beyond ``max_items``.

        The oldest go first, as with RabbitMQ's own queue length limit:
        the newest say what is true now. Called with the lock held.
        """
        while len(self._entries) > self.max_items:
            victim = next((e for e in self._entries
                           if e.written and e is not self._in_flight),
                          None)
            if victim is None:
                return  # the rest are being written or sent
            self._entries.remove(victim)
            self._finish(victim)
            self.dropped += 1
            LOG.error('Notification outbox full (%(max)d): dropped '
                      '%(event_type)s %(id)s', {
                          'max': self.max_items,
                          'event_type': _describe(victim, 'event_type'),
                          'id': _describe(victim, 'message_id')})

    def _finish(self, entry):
        self._log.mark_done(entry.seq, entry.segment)

    def take(self, stop):
        """Wait for the oldest message and mark it as being sent.

        :param stop: a threading.Event; set (and :meth:`wake`), it ends
            the wait
        :returns: the oldest Entry, or None once ``stop`` is set
        """
        with self._cond:
            self._cond.wait_for(
                lambda: (self._entries and self._entries[0].written)
                or stop.is_set())
            if stop.is_set():
                return None
            self._in_flight = self._entries[0]
            return self._in_flight

    def done(self, entry):
        """Remove a message the broker has taken.

        Not synced: a removal lost in a power cut only sends the message
        again, which receivers recognise.
        """
        with self._cond:
            if entry in self._entries:
                self._entries.remove(entry)
                self._finish(entry)
            self._in_flight = None
            self._cond.notify_all()

    def release(self, entry):
        """A message that could not be sent stays first in the queue."""
        with self._cond:
            self._in_flight = None

    def wait_empty(self, timeout):
        """Wait until nothing is queued; whether that happened in time."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._entries, timeout)

    def wake(self):
        """Make every :meth:`take` look at its ``stop`` event again."""
        with self._cond:
            self._cond.notify_all()


def _describe(entry, key):
    message = entry.data.get('message')
    return message.get(key) if isinstance(message, dict) else None


class Sender(object):
    """A thread delivering an outbox's messages in order.

    :param outbox: the Outbox
    :param deliver: called with each entry's data; returns once the
        message has been taken, raises if it has not
    :param retry_interval: seconds to wait after a failed delivery,
        doubled after each further failure up to ``retry_interval_max``
    """

    def __init__(self, outbox, deliver, retry_interval, retry_interval_max):
        self.outbox = outbox
        self.deliver = deliver
        self.retry_interval = retry_interval
        self.retry_interval_max = retry_interval_max
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run,
                                        name='notification-sender',
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout):
        """Deliver what is queued for up to ``timeout`` seconds, then stop.

        What is not delivered by then stays in the outbox for the next
        process.

        :returns: how many messages are left
        """
        if self._thread is None:
            return len(self.outbox)
        if not self.outbox.wait_empty(timeout):
            LOG.warning('Stopping with %d notifications not sent; they '
                        'stay in the outbox for the next start',
                        len(self.outbox))
        self._stop.set()
        self.outbox.wake()
        # A send in progress is one attempt (retry=0): it ends soon, and
        # the thread is a daemon in any case.
        self._thread.join(max(timeout, 1.0))
        self._thread = None
        return len(self.outbox)

    def _run(self):
        delay = self.retry_interval
        failing = False
        while True:
            entry = self.outbox.take(self._stop)
            if entry is None:
                return
            try:
                self.deliver(entry.data)
            except Exception as error:
                self.outbox.release(entry)
                if not failing:
                    # Once per outage, not once per attempt.
                    LOG.warning('Could not send notification %(id)s, '
                                'trying again until it is taken: '
                                '%(error)s', {
                                    'id': _describe(entry, 'message_id'),
                                    'error': error})
                failing = True
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, self.retry_interval_max)
                continue
            self.outbox.done(entry)
            if failing:
                LOG.info('Sending notifications again; %d waiting',
                         len(self.outbox))
            failing = False
            delay = self.retry_interval
