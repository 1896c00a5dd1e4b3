"""Waiting for guests to change state, woken by libvirt's events.

libvirt's event thread calls :meth:`StateWaiter.notify` (and
:meth:`StateWaiter.note_reboot`, :meth:`StateWaiter.note_device_removed`),
which only take a lock for a moment, so event callbacks never block. A
driver thread waiting for a guest to shut down, reboot or release a
detached device re-checks its condition after each event and at least
every poll interval, the backstop for events that never come (a test
hypervisor without events, a connection lost and reopened).

Device removals are remembered by (uuid, alias) from
:meth:`StateWaiter.expect_removal` on: libvirt may deliver the event
before the detach request returns, and an alias is reused by the next
device attached at the same place, so a removal seen before the request
must not count.
"""

import collections
import threading
import time


class StateWaiter(object):
    """A condition that domain events and a poll interval wake."""

    def __init__(self):
        self._cond = threading.Condition()
        self._generation = 0
        self._reboots = collections.Counter()
        self._removed = set()

    def notify(self, uuid):
        """A guest's state changed (called on libvirt's event thread)."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def note_reboot(self, uuid):
        """A guest rebooted (called on libvirt's event thread)."""
        with self._cond:
            self._reboots[uuid] += 1
            self._generation += 1
            self._cond.notify_all()

    def reboots(self, uuid):
        """How many reboots of the guest have been seen so far."""
        with self._cond:
            return self._reboots[uuid]

    def note_device_removed(self, uuid, alias):
        """A guest's device is gone (called on libvirt's event thread).

        :param alias: libvirt's alias of the device, e.g. ``virtio-disk1``
        """
        with self._cond:
            self._removed.add((uuid, alias))
            self._generation += 1
            self._cond.notify_all()

    def expect_removal(self, uuid, alias):
        """Forget an earlier removal of ``alias``: a detach is requested."""
        with self._cond:
            self._removed.discard((uuid, alias))

    def device_removed(self, uuid, alias):
        """Whether the device was removed since :meth:`expect_removal`."""
        with self._cond:
            return (uuid, alias) in self._removed

    def forget(self, uuid):
        """Drop what is known of a guest that is gone."""
        with self._cond:
            self._reboots.pop(uuid, None)
            self._removed = {key for key in self._removed
                             if key[0] != uuid}

    def wait_for(self, predicate, timeout, poll):
        """Wait until ``predicate()`` is true or ``timeout`` passes.

        :param predicate: a callable without arguments; it may call
            libvirt (it runs on the waiting thread, never on the event
            thread)
        :param timeout: seconds; 0 checks once
        :param poll: most seconds between two checks
        :returns: True if the predicate became true, False on timeout
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                seen = self._generation
            if predicate():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._cond:
                # An event between the check and here has moved the
                # generation on: check again at once instead of waiting.
                if self._generation == seen:
                    self._cond.wait(min(poll, remaining))
