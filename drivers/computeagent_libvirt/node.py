"""What the driver reads of the host as a whole.

Every domain's power state, the CPU architecture and the host's
resources. Like :mod:`computeagent_libvirt.domain`, this module calls
libvirt through :meth:`computeagent_libvirt.host.Host.call` and takes its
flags from :class:`computeagent_libvirt.host.Flags`; it does not import
libvirt.
"""

import time

from computeagent import exception
from computeagent_libvirt.config import caps as caps_config
from computeagent_libvirt import host as host_mod

FLAGS = host_mod.Flags

#: Seconds :meth:`Node.resources` reuses what it read (see there).
RESOURCES_TTL = 60


def format_version(number):
    """libvirt's version integer (major * 10^6 + minor * 10^3 + micro)."""
    return '%d.%d.%d' % (number // 1000000, number // 1000 % 1000,
                         number % 1000)


def memory_mb(host, info):
    """The host's memory in MiB.

    getInfo()'s figure is the memory of the NUMA cells libvirt found at
    boot; on a guest with hot-plugged or ballooned memory (as on these
    machines: 5 GiB said, 24 GiB there) it is far from the truth. The node
    memory stats total is the kernel's MemTotal; hypervisors that lack
    them (libvirt's test driver) keep getInfo's figure.

    :param host: a computeagent_libvirt.host.Host
    :param info: what the connection's getInfo() returned
    :returns: int
    """
    try:
        stats = host.call('reading memory stats',
                          lambda conn: conn.getMemoryStats(
                              FLAGS.MEMORY_ALL_CELLS, 0))
    except exception.DriverError:
        return info[1]
    return stats['total'] // 1024 if stats.get('total') else info[1]


class Node(object):
    """The host-wide reads of one Host, with what is worth keeping.

    :param host: a computeagent_libvirt.host.Host
    """

    def __init__(self, host):
        self.host = host
        self._arch = None
        # (connection, time.monotonic() when read, resources)
        self._resources = None

    def power_states(self):
        """The power state of every domain, in two libvirt calls.

        :returns: dict of uuid to a POWER_STATES value
        """
        def states(conn):
            saved = {d.UUIDString() for d in conn.listAllDomains(
                FLAGS.LIST_MANAGED_SAVE)}
            stats = conn.getAllDomainStats(FLAGS.STATS_STATE, 0)
            return {dom.UUIDString(): host_mod.power_state(
                        values.get('state.state'),
                        values.get('state.reason'),
                        dom.UUIDString() in saved)
                    for dom, values in stats}
        return self.host.call('listing domains', states)

    def arch(self):
        """The host's CPU architecture, from its capabilities."""
        if self._arch is None:
            self._arch = caps_config.Capabilities.parse_str(self.host.call(
                'reading capabilities', lambda conn: conn.getCapabilities())
            ).host_arch
        return self._arch

    def resources(self):
        """:returns: dict with hypervisor (str), vcpus, memory_mb

        Every create's admission asks for these. Reading them is five
        calls to libvirtd (2.3 ms inside a busy agent, measured), for
        figures that change only when memory is ballooned or hot-plugged
        or CPUs go on- or offline, and versions that change only with a
        new libvirtd. So what was read is reused for
        :data:`RESOURCES_TTL` seconds on the same connection, and read
        again after a reconnection: admission sees a change within a
        minute, as often as nova's periodic resource update would.
        """
        conn = self.host.connection()
        cached = self._resources
        if (cached is not None and cached[0] is conn
                and time.monotonic() - cached[1] < RESOURCES_TTL):
            return dict(cached[2])

        def read(conn):
            info = conn.getInfo()
            return conn, info, {
                'hypervisor': '%s %s (libvirt %s)' % (
                    conn.getType(), format_version(conn.getVersion()),
                    format_version(conn.getLibVersion())),
                'vcpus': info[2]}
        when = time.monotonic()
        conn, info, resources = self.host.call('reading host info', read)
        resources['memory_mb'] = memory_mb(self.host, info)
        self._resources = (conn, when, resources)
        return dict(resources)
