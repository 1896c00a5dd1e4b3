"""Files that survive a crash or a power loss whole, or not at all.

The instance store (:mod:`computeagent.compute.store`) writes its files
with :func:`write_file`; whoever adds an entry to a directory another
way (the image cache's renames, the notification outbox's new segments
in :mod:`computeagent.api.outboxlog`) makes it durable with
:func:`fsync_dir`.
This module imports nothing of the project, so every layer may use it.
"""

import os
import tempfile


def fsync_dir(path):
    """Make a rename or a new entry in ``path`` survive a power loss.

    :param path: a directory
    :raises: OSError
    """
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path, text, temp_prefix):
    """Replace ``path`` with ``text``, atomically and durably.

    The text goes to a temporary file beside ``path``, which is fsynced
    and renamed over it; then the directory is fsynced. A crash leaves the
    old file or the new one, never half of either, and perhaps a
    temporary file (``temp_prefix`` and a random suffix) that whoever
    owns the directory removes when it finds one.

    :param path: the file to write; its directory must exist
    :param text: str, the whole new content
    :param temp_prefix: the name the temporary file begins with
    :raises: OSError (the temporary file is removed, ``path`` unchanged)
    """
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix, dir=directory)
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    # The rename is durable only once its directory is: without this a
    # power loss could bring the old file back after a reader was told
    # of the new one.
    fsync_dir(directory)
