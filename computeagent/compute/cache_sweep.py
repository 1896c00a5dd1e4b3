"""The periodic image-cache sweep (a service hook, not exposed over RPC).

The driver removes cached images no instance uses
(:meth:`computeagent.virt.driver.ComputeDriver.cleanup_image_cache`)
while the sweep holds every build slot of
:class:`computeagent.compute.locks.InstanceLocks`: a build prepares
(fetches its images) and spawns holding one, so no build can pick a
base that the sweep then removes. Creates waiting for a slot have not
fetched anything yet.

On an instances path shared with other hosts, the cache is shared too:
the records of every host there say what is in use, so no host removes
an image another host's instance uses. (Another host's build is not
held off by this host's slots: an image it fetches is new and younger
than ``[image] unused_base_min_age``, and one it reuses is in use once
its disks name it; a build reusing a long-unused image at the moment
of a sweep fails and is rolled back. A lock across hosts would close
that window.)
"""

from oslo_log import log as logging
from oslo_utils import timeutils

LOG = logging.getLogger(__name__)


class ImageCacheSweep(object):
    """Sweeps the driver's image cache between builds.

    :param driver: the virt driver
    :param store: the InstanceStore, whose records say what is in use
    :param locks: the InstanceLocks whose build slots the builds hold
    """

    def __init__(self, driver, store, locks):
        self.driver = driver
        self.store = store
        self.locks = locks

    def _records(self):
        """The records whose instances may use the cache."""
        records = {record.uuid: record for record in self.store.list()}
        if self.store.host is not None:
            for stored in self.store.read_all():
                records.setdefault(stored.uuid, stored.record)
        return list(records.values())

    def sweep(self, timeout=60):
        """Let the driver remove cached images no instance uses.

        :param timeout: seconds to wait for the builds running to end;
            if they do not, this round is skipped
        :returns: what the driver removed
        """
        deadline = timeutils.StopWatch(duration=timeout).start()
        slots = self.locks.build_slots
        taken = 0
        try:
            for _ in range(self.locks.max_builds):
                if not slots.acquire(timeout=deadline.leftover()):
                    LOG.info('Image cache sweep skipped: builds still '
                             'running after %d s', timeout)
                    return []
                taken += 1
            removed = self.driver.cleanup_image_cache(self._records())
        finally:
            for _ in range(taken):
                slots.release()
        if removed:
            LOG.info('Removed %d unused cached images', len(removed))
        return removed
