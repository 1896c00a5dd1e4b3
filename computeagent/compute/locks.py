"""What the compute parts share to keep out of each other's way.

One :class:`InstanceLocks` per manager: the per-instance locks that make
the operations of one instance run one at a time (a create's accept and
spawn, every operation of :mod:`computeagent.compute.operations`, a
power sync), and the build slots that bound how many creates build at
once (``max_concurrent_builds``), which the image-cache sweep
(:mod:`computeagent.compute.cache_sweep`) takes all of.
"""

import os
import threading

from oslo_concurrency import lockutils

#: build slots per CPU when ``max_concurrent_builds`` is unset
BUILDS_PER_CPU = 2


def build_slots(conf):
    """How many creates build at once: ``max_concurrent_builds``.

    Unset, :data:`BUILDS_PER_CPU` per CPU this process may run on (its
    affinity, which a container or a cgroup may narrow), at least two.

    :param conf: the ConfigOpts
    """
    if conf.max_concurrent_builds is not None:
        return conf.max_concurrent_builds
    return max(2, BUILDS_PER_CPU * len(os.sched_getaffinity(0)))


class InstanceLocks(object):
    """Per-instance locks and the build slots.

    :param max_builds: how many builds may run at once
    :param semaphores: the ``lockutils.Semaphores`` the instance locks
        come from; by default a container of this object's own
    """

    def __init__(self, max_builds, semaphores=None):
        if semaphores is None:
            semaphores = lockutils.Semaphores()
        self._semaphores = semaphores
        self.max_builds = max_builds
        #: acquired by a build from before its prepare to after its spawn
        self.build_slots = threading.BoundedSemaphore(max_builds)

    def lock(self, uuid):
        """The lock of one instance, a context manager.

        :param uuid: the instance's uuid, validated
        """
        return lockutils.lock('instance-%s' % uuid,
                              semaphores=self._semaphores)
