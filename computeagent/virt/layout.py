"""Names of the files on a compute node (API.md, "Files on the compute
node"), shared by every driver so they all lay instances out alike.
"""

import os
import re

# Every name a driver makes in an instance directory: disks (a snapshot
# disk's temporary overlay is ``disk.<target>.snapshot``), console logs
# with the rotated copies virtlogd keeps (``console.log.0``, ...) and the
# sockets of unix serial ports. Targets are as storage checks them.
_INSTANCE_FILE_RE = re.compile(
    r'^(disk'
    r'|disk\.[a-z]{2}[a-z]{1,4}(\.snapshot)?'
    r'|console(\.[0-9]+)?\.log(\.[0-9]+)?'
    r'|serial[0-9]+\.sock)$')


def instance_dir(instances_path, uuid):
    return os.path.join(instances_path, uuid)


def disk_file(directory, index, target):
    """The first disk is ``disk``; the others ``disk.<target>``."""
    return os.path.join(directory,
                        'disk' if index == 0 else 'disk.%s' % target)


def console_log(directory, port):
    """``console.log`` for port 0, ``console.<port>.log`` for the others."""
    name = 'console.log' if port == 0 else 'console.%d.log' % port
    return os.path.join(directory, name)


def serial_socket(directory, port):
    """The listening socket of a ``unix`` serial port."""
    return os.path.join(directory, 'serial%d.sock' % port)


def is_instance_file(name):
    """Whether drivers make files of that name in instance directories.

    Start-up recovery removes a directory the agent has no record of
    only if it holds nothing else (:mod:`computeagent.compute.recovery`).

    :param name: a file name, not a path
    """
    return bool(_INSTANCE_FILE_RE.match(name))


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


def fsync_dir(path):
    """Make a rename or a new entry in ``path`` survive a power loss."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
