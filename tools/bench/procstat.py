"""CPU time and memory of a process, from /proc/<pid>."""

import os

_TICKS = None


def cpu_seconds(pid):
    """User plus system CPU time the process used so far, all threads.

    :param pid: the process id
    :returns: seconds (resolution: one clock tick, usually 10 ms)
    :raises OSError: no such process
    """
    global _TICKS
    if _TICKS is None:
        _TICKS = os.sysconf('SC_CLK_TCK')
    with open('/proc/%d/stat' % pid) as f:
        stat = f.read()
    # The command name, field 2, is in parentheses and may hold spaces;
    # utime and stime are fields 14 and 15.
    fields = stat[stat.rindex(')') + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_mib(pid):
    """The process's resident memory now, in MiB.

    :param pid: the process id
    :raises OSError: no such process
    """
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    # A zombie has no memory of its own left.
    return 0.0
