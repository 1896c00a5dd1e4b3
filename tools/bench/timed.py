"""A notification listener that notes when each notification arrived."""

import threading
import time

import oslo_messaging


class TimedNotifications(object):
    """The arrival times of an agent's notifications, by type and uuid.

    Listens in a pool of its own, so the fixture's own collector still
    gets every notification too.

    :param agent: a started :class:`tests.functional.fixtures.AgentFixture`
    """

    def __init__(self, agent):
        self._cond = threading.Condition()
        self._arrived = {}
        transport = oslo_messaging.get_notification_transport(
            agent.conf, url=agent.notification_url or agent.transport_url)
        self._transport = transport
        self._listener = oslo_messaging.get_notification_listener(
            transport,
            [oslo_messaging.Target(topic='notifications',
                                   exchange=agent.exchange)],
            [self], executor='threading', pool='bench-%s' % agent.host)
        self._listener.start()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        """The listener's endpoint: note the arrival."""
        now = time.monotonic()
        uuid = payload.get('uuid') if isinstance(payload, dict) else None
        with self._cond:
            self._arrived.setdefault((event_type, uuid), now)
            self._cond.notify_all()

    def wait(self, event_type, uuids, timeout=300):
        """When each of ``uuids`` got its ``event_type``.

        :param event_type: e.g. ``instance.create.end``
        :param uuids: the instances' uuids
        :param timeout: seconds to wait for all of them at most
        :returns: ``{uuid: time.monotonic() of arrival}``
        :raises RuntimeError: some did not arrive within ``timeout``
        """
        keys = [(event_type, uuid) for uuid in uuids]
        with self._cond:
            if not self._cond.wait_for(
                    lambda: all(k in self._arrived for k in keys), timeout):
                missing = [u for (_e, u) in keys if (_e, u) not in
                           self._arrived]
                raise RuntimeError('no %s for %s within %s s'
                                   % (event_type, missing, timeout))
            return {uuid: self._arrived[(event_type, uuid)]
                    for uuid in uuids}

    def close(self):
        self._listener.stop()
        self._listener.wait()
        self._transport.cleanup()
