"""qemu-img, run safely.

Every call runs qemu-img with an argument list (never a shell) and names
every format explicitly (``-f``, ``-F``, ``-O``): qemu-img never probes
a format, because probing is how a raw image that looks like qcow2 gets
its "backing file" opened. A call that parses an image's content
(``info``, ``convert``) runs under resource limits (``[disk]
qemu_img_cpu_seconds``, ``[disk] qemu_img_address_space_mb``), so a
crafted image cannot tie up the host; one that only writes metadata of
its own on an image already verified (``create``, ``resize``) runs
without them, as the limits guard parsing, and starting prlimit(1)
costs a quarter of such a call. Failures become
:class:`~computeagent.exception.DriverError` carrying qemu-img's own
message, except a write that found no room (qemu-img prints ``No space
left on device``): that is the host's lack of disk,
``InsufficientResources`` (:func:`computeagent.virt.diskspace.no_space`).
"""

import json
import os
import subprocess

from oslo_log import log as logging
from oslo_utils import units

from computeagent import exception
from computeagent.virt import diskspace

LOG = logging.getLogger(__name__)

QEMU_IMG = 'qemu-img'
PRLIMIT = 'prlimit'
#: the formats an instance disk or a cached base may have
FORMATS = ('qcow2', 'raw')


def _check_format(fmt):
    # A programming error, not a user's: the callers pass only formats
    # that inspection established.
    if fmt not in FORMATS:
        raise exception.DriverError(
            reason='unsupported disk format %r (only %s)'
            % (fmt, ', '.join(FORMATS)))


def _limited(conf):
    """util-linux's prlimit(1) with the configured limits.

    oslo.concurrency's own ``prlimit=`` starts a Python interpreter per
    call to set the limits (about 50 ms here, several times per create);
    prlimit(1) sets the very same kernel limits in about 4 ms.
    """
    return (PRLIMIT,
            '--cpu=%d' % conf.disk.qemu_img_cpu_seconds,
            '--as=%d' % (conf.disk.qemu_img_address_space_mb * units.Mi),
            '--')


def _run(cmd):
    """Run ``cmd``: a CompletedProcess with its exit code and output.

    subprocess, not oslo.concurrency's processutils.execute: that one
    hands Popen a Python ``preexec_fn`` (to restore SIGPIPE, which
    subprocess's ``restore_signals`` already does), and a ``preexec_fn``
    makes CPython fork and run Python in the child instead of spawning
    qemu-img directly: about 6 ms more per call here, a create's
    largest cost of its own.

    :raises: OSError if the program cannot be run
    """
    # The environment is kept for PATH and friends; only the language
    # of the messages passed on is pinned.
    return subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, check=False,
                          env=dict(os.environ, LC_ALL='C'))


def _execute(conf, *args, writes=None, limited=True):
    """Run qemu-img with ``args``; its stdout.

    :param writes: the file this call writes, if any
    :param limited: under the ``[disk] qemu_img_*`` limits; only a call
        that parses no untrusted image may run without them
    :raises: DriverError; InsufficientResources when ``writes`` found no
        room
    """
    cmd = ((_limited(conf) if limited else ()) + (QEMU_IMG,) +
           tuple(str(a) for a in args))
    LOG.debug('Running %s', ' '.join(cmd))
    try:
        result = _run(cmd)
    except OSError as error:
        # qemu-img or prlimit(1) is not installed or not runnable.
        raise exception.DriverError(
            reason='cannot run qemu-img: %s' % error)
    if result.returncode == 0:
        return result.stdout
    reason = (result.stderr or result.stdout or '').strip()
    if not reason:
        # prlimit kills without a message; say which limit may bite.
        reason = ('exit code %s (possibly over the [disk] qemu_img_* '
                  'resource limits)' % result.returncode)
    LOG.warning('qemu-img %(cmd)s failed: %(reason)s',
                {'cmd': args[0], 'reason': reason})
    if writes is not None and diskspace.says_no_space(reason):
        raise diskspace.no_space(writes, 'qemu-img %s' % args[0])
    raise exception.DriverError(
        reason='qemu-img %s: %s' % (args[0], reason))


def create_overlay(conf, path, backing_path, backing_format, size=None):
    """Create a qcow2 overlay on ``backing_path``.

    ``qemu-img create -f qcow2 -b BACKING -F FMT PATH [SIZE]``

    :param conf: the ConfigOpts
    :param path: the overlay to create; must not exist
    :param backing_path: absolute path of the backing image
    :param backing_format: its format, 'raw' or 'qcow2'
    :param size: virtual size in bytes, or None for the backing's size
    :raises: DriverError, InsufficientResources
    """
    _check_format(backing_format)
    args = ['create', '-q', '-f', 'qcow2', '-b', backing_path,
            '-F', backing_format, path]
    if size is not None:
        args.append(int(size))
    # The backing file is a cached base, verified when it was fetched.
    _execute(conf, *args, writes=path, limited=False)


def create_blank(conf, path, fmt, size):
    """Create an empty disk: ``qemu-img create -f FMT PATH SIZE``.

    :param size: virtual size in bytes
    :raises: DriverError, InsufficientResources
    """
    _check_format(fmt)
    _execute(conf, 'create', '-q', '-f', fmt, path, int(size), writes=path,
             limited=False)


def convert(conf, source, source_format, dest, dest_format):
    """Copy an image: ``qemu-img convert -f X -O Y SOURCE DEST``.

    :raises: DriverError, InsufficientResources
    """
    _check_format(source_format)
    _check_format(dest_format)
    _execute(conf, 'convert', '-q', '-f', source_format, '-O', dest_format,
             source, dest, writes=dest)


def resize(conf, path, fmt, size):
    """Grow an image: ``qemu-img resize -f FMT PATH SIZE``.

    :param size: the new virtual size in bytes
    :raises: DriverError, InsufficientResources
    """
    _check_format(fmt)
    # A raw disk of the agent's own making: only its length changes.
    _execute(conf, 'resize', '-q', '-f', fmt, path, int(size), writes=path,
             limited=False)


def info(conf, path, fmt, force_share=False):
    """``qemu-img info -f FMT --output=json PATH``, parsed.

    :param fmt: the format to open the image as (any qemu-img format
        name: the caller may be checking what a file claims to be)
    :param force_share: open even if a running guest holds a write lock
        (``-U``); the answer may then be slightly stale
    :returns: qemu-img's JSON as a dict (``format``, ``virtual-size``,
        ``actual-size``, ``backing-filename``, ``format-specific``, ...)
    :raises: DriverError
    """
    args = ['info', '-f', fmt, '--output=json']
    if force_share:
        args.append('--force-share')
    args.append(path)
    out = _execute(conf, *args)
    try:
        return json.loads(out)
    except ValueError as error:
        raise exception.DriverError(
            reason='qemu-img info printed no JSON: %s' % error)
