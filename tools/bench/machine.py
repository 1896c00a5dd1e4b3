"""What a person needs to know of the machine a run was measured on."""

import datetime
import os
import platform
import subprocess

import libvirt


def _cpu_model():
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    return platform.processor() or 'unknown'


def _memory_mib():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemTotal:'):
                return int(line.split()[1]) // 1024
    return None


def _version(number):
    """libvirt's packed version (major * 1000000 + minor * 1000 + micro)."""
    return '%d.%d.%d' % (number // 1000000, number // 1000 % 1000,
                         number % 1000)


def _commit():
    result = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                            capture_output=True, text=True)
    return result.stdout.strip() or 'unknown'


def describe():
    """The machine as it is now, load included.

    :returns: a dict of plain values, for the JSON and the summary
    """
    conn = libvirt.open('qemu:///system')
    try:
        libvirtd = _version(conn.getLibVersion())
        qemu = _version(conn.getVersion())
    finally:
        conn.close()
    return {
        'date_utc': datetime.datetime.now(datetime.timezone.utc).strftime(
            '%Y-%m-%d %H:%M:%S'),
        'commit': _commit(),
        'cpu_model': _cpu_model(),
        'cpus': os.cpu_count(),
        'memory_mib': _memory_mib(),
        'kernel': platform.release(),
        'python': platform.python_version(),
        'libvirt_python': _version(libvirt.getVersion()),
        'libvirtd': libvirtd,
        'qemu': qemu,
        'load_average': list(os.getloadavg()),
    }
