"""Names of the files on a compute node (docs/api.md, "Files on the compute
node"), shared by every driver so they all lay instances out alike.

This is the one place that says what an instance's uuid looks like (it
names the instance's directory, so nothing but a canonical UUID may) and
what every file in that directory is called.
"""

import os
import re
import uuid as uuid_lib

from computeagent import durable
from computeagent import exception

# What a disk target may be in a file name: looser than the request
# schema's targets (computeagent.schema.disks), and never a path.
_TARGET = r'[a-z]{2}[a-z]{1,4}'
_TARGET_RE = re.compile(_TARGET)

# Every name a driver makes in an instance directory: disks (a snapshot
# disk's temporary overlay is ``disk.<target>.snapshot``), the logs of
# serial and parallel ports with the rotated copies virtlogd keeps
# (``console.log.0``, ``parallel0.log.0``, ...), and the sockets and
# FIFOs of unix and pipe ports.
_INSTANCE_FILE_RE = re.compile(
    r'(disk'
    r'|disk\.' + _TARGET + r'(\.snapshot)?'
    r'|(console(\.[0-9]+)?|parallel[0-9]+)\.log(\.[0-9]+)?'
    r'|(serial|parallel)[0-9]+\.(sock|in|out))')

#: the kinds of character port a guest has: ``serial_ports`` and
#: ``parallel_ports`` of the spec; each kind's files are named after it
SERIAL = 'serial'
PARALLEL = 'parallel'
PORT_KINDS = (SERIAL, PARALLEL)


def canonical_uuid(value):
    """The canonical form of a UUID given in any form ``uuid`` accepts.

    :param value: anything
    :returns: the lower-case hyphenated form, or None if ``value`` is not
        a string naming a UUID
    """
    if not isinstance(value, str):
        return None
    try:
        return str(uuid_lib.UUID(value))
    except ValueError:
        return None


def is_uuid(value):
    """Whether ``value`` is a UUID in canonical form, as instances are named.

    :param value: anything, e.g. a directory name
    """
    return value is not None and canonical_uuid(value) == value


def instance_dir(instances_path, uuid):
    """``<instances_path>/<uuid>``, an absolute path.

    :param instances_path: ``[DEFAULT] instances_path``
    :param uuid: the instance's uuid
    :raises: InvalidSpec naming ``uuid`` if it is not a canonical UUID, so
        no other name can make a path outside the instance's directory
    """
    if not is_uuid(uuid):
        raise exception.InvalidSpec(field='uuid',
                                    reason='not a canonical UUID')
    return os.path.join(os.path.abspath(instances_path), uuid)


def _check_target(target):
    if not isinstance(target, str) or not _TARGET_RE.fullmatch(target):
        raise exception.InvalidSpec(field='target',
                                    reason='%r is not a disk target'
                                           % (target,))
    return target


def disk_file(directory, index, target):
    """The first disk is ``disk``; the others ``disk.<target>``.

    :raises: InvalidSpec naming ``target`` if it cannot be a file name
    """
    _check_target(target)
    return os.path.join(directory,
                        'disk' if index == 0 else 'disk.%s' % target)


def snapshot_file(directory, target):
    """``disk.<target>.snapshot``: a snapshot disk's temporary overlay.

    :raises: InvalidSpec naming ``target`` if it cannot be a file name
    """
    return os.path.join(directory,
                        'disk.%s.snapshot' % _check_target(target))


def _port_kind(kind):
    if kind not in PORT_KINDS:
        raise ValueError('%r is not a port kind %s' % (kind, PORT_KINDS))
    return kind


def console_log(directory, port):
    """``console.log`` for serial port 0, else ``console.<port>.log``."""
    return port_log(directory, SERIAL, port)


def port_log(directory, kind, index):
    """The log file of a port: a ``file`` port's file, or its ``log``.

    Serial ports keep their historical names, ``console.log`` for port
    0 (the console) and ``console.<index>.log`` for the others; parallel
    ports write ``parallel<index>.log``.

    :param kind: :data:`SERIAL` or :data:`PARALLEL`
    """
    if _port_kind(kind) == SERIAL:
        name = 'console.log' if index == 0 else 'console.%d.log' % index
    else:
        name = 'parallel%d.log' % index
    return os.path.join(directory, name)


def port_socket(directory, kind, index):
    """``<kind><index>.sock``: the listening socket of a ``unix`` port."""
    return os.path.join(directory, '%s%d.sock' % (_port_kind(kind), index))


def port_pipe(directory, kind, index):
    """``<kind><index>``: the base name of a ``pipe`` port's FIFOs.

    The port reads the guest's input from ``<base>.in`` and writes the
    guest's output to ``<base>.out`` (:func:`pipe_fifos`); the base name
    itself is no file, it is what libvirt's ``<source path>`` names.
    """
    return os.path.join(directory, '%s%d' % (_port_kind(kind), index))


def pipe_fifos(base):
    """The two FIFOs of a pipe port whose base name is ``base``.

    :returns: (``<base>.in``, ``<base>.out``): what the guest reads, what
        it writes
    """
    return base + '.in', base + '.out'


def serial_socket(directory, port):
    """The listening socket of a ``unix`` serial port."""
    return port_socket(directory, SERIAL, port)


def port_files(directory, kind, index, port):
    """The files a serial or parallel port uses, as the records name them.

    :param directory: the instance directory
    :param kind: :data:`SERIAL` or :data:`PARALLEL`
    :param index: the port's number (serial port 0 is the console)
    :param port: the SerialPortSpec (only the types that can log may
        have ``log``, :mod:`computeagent.schema.instance`)
    :returns: dict with ``path`` (a file port's file, a unix port's
        socket, a pipe port's FIFO base name, else None) and
        ``log_file`` (the file a file port writes or the log of a port
        with ``log``, else None)
    """
    type_ = port.type
    log = port_log(directory, kind, index)
    logged = type_ == 'file' or port.log
    if type_ == 'file':
        path = log
    elif type_ == 'unix':
        path = port_socket(directory, kind, index)
    elif type_ == 'pipe':
        path = port_pipe(directory, kind, index)
    else:
        path = None
    return {'path': path, 'log_file': log if logged else None}


def serial_files(directory, index, port):
    """:func:`port_files` of serial port ``index``."""
    return port_files(directory, SERIAL, index, port)


def is_instance_file(name):
    """Whether drivers make files of that name in instance directories.

    Start-up recovery removes a directory the agent has no record of
    only if it holds nothing else (:mod:`computeagent.compute.recovery`).

    :param name: a file name, not a path
    """
    # fullmatch: "$" would take a name ending in a newline for one.
    return bool(_INSTANCE_FILE_RE.fullmatch(name))


def unknown_files(directory, ignore=()):
    """What a directory holds besides the files drivers make.

    :param directory: an instance directory
    :param ignore: further names the caller accounts for
    :returns: sorted list of names; a subdirectory is always unknown
    :raises: OSError if the directory cannot be listed
    """
    unknown = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name in ignore:
                continue
            if entry.is_dir(follow_symlinks=False) or not is_instance_file(
                    entry.name):
                unknown.append(entry.name)
    return sorted(unknown)


def why_keep(directory, ignore=()):
    """Why an instance directory must not be removed, or None.

    :returns: a reason naming the files the agent does not make, or None
        when the directory holds only its own files (or is gone)
    """
    try:
        unknown = unknown_files(directory, ignore)
    except FileNotFoundError:
        return None
    if unknown:
        return 'it holds files the agent does not make: %s' % (
            ', '.join(unknown))
    return None


def why_taken(directory, is_own=None):
    """Why a create may not build in ``directory``, or None if it may.

    A create makes its files in the instance directory and, if it fails,
    removes the directory whole, so it may start only where that removes
    nothing but what the agent itself leaves: no directory, an empty one,
    or one with only the files drivers make (:func:`is_instance_file`)
    and those ``is_own`` accepts. A symbolic link or a file in the
    directory's place is refused too: nothing is written through it.

    :param is_own: ``is_own(name)``, true for further names of the
        agent's own (the store's temporary files)
    :returns: a sentence naming the path and what is in the way, or None
    :raises: OSError if the directory cannot be listed
    """
    if os.path.islink(directory) or (os.path.lexists(directory)
                                     and not os.path.isdir(directory)):
        return '%s is not a directory' % directory
    try:
        unknown = [name for name in unknown_files(directory)
                   if is_own is None or not is_own(name)]
    except FileNotFoundError:
        return None
    if unknown:
        return '%s already holds files the agent did not make: %s' % (
            directory, ', '.join(unknown))
    return None


#: Make a rename or a new entry in a directory survive a power loss:
#: :func:`computeagent.durable.fsync_dir`, named here for the drivers,
#: which import ``virt`` and never the core's own modules.
fsync_dir = durable.fsync_dir
