"""Reading the end of a serial console log across its rotated files.

virtlogd (and the fake driver, which imitates it) writes ``console.log``
and, when it is full, renames it to ``console.log.0`` after shifting the
older backups up (``.0`` to ``.1`` and so on). The newest bytes are at the
end of ``console.log``; the oldest at the start of the highest backup.
Logs can be large, so only the blocks needed for the answer are read,
from the end backwards.
"""

import os

from computeagent import exception

BLOCK = 64 * 1024
#: get_console_output's max_bytes when the caller gives none (docs/api.md)
DEFAULT_MAX_BYTES = 100 * 1024


def log_files(path):
    """The log and its backups, newest first, that exist now."""
    files = [path] if os.path.exists(path) else []
    index = 0
    while os.path.exists('%s.%d' % (path, index)):
        files.append('%s.%d' % (path, index))
        index += 1
    return files


def _read_backwards(files, want_bytes, want_lines):
    """Blocks from the end of the newest file back to the oldest one.

    Stops as soon as enough bytes or enough lines have been read.
    """
    got_bytes = 0
    got_lines = 0
    for name in files:
        try:
            f = open(name, 'rb')
        except FileNotFoundError:
            # Rotated away between listing and opening: its bytes now
            # live in the next backup, which we read anyway.
            continue
        except PermissionError as e:
            # virtlogd writes the logs root:root 0600; an agent that is
            # not root reads them only with CAP_DAC_READ_SEARCH.
            raise exception.DriverError(
                reason='cannot read the console log %s: %s (virtlogd '
                       'writes it for root only: an agent not running '
                       'as root needs CAP_DAC_READ_SEARCH)'
                % (name, e.strerror))
        with f:
            position = f.seek(0, os.SEEK_END)
            while position > 0:
                size = min(BLOCK, position)
                position -= size
                f.seek(position)
                block = f.read(size)
                yield block
                got_bytes += len(block)
                got_lines += block.count(b'\n')
                # The answer is capped by bytes and by lines: whichever
                # is reached first bounds what must be read.
                if got_bytes >= want_bytes:
                    return
                if want_lines is not None and got_lines > want_lines:
                    return


def _last_lines(data, count):
    """The last ``count`` lines of ``data``; only ``\\n`` ends a line.

    Consoles end lines with ``\\r\\n`` (often ``\\r\\r\\n``) and
    redraw progress with a bare ``\\r``; ``bytes.splitlines`` would make
    each ``\\r`` a line of its own, and :func:`_read_backwards` counts
    ``\\n`` only.
    """
    if count == 0:
        return b''
    start = len(data) - 1 if data.endswith(b'\n') else len(data)
    for _ in range(count):
        start = data.rfind(b'\n', 0, start)
        if start < 0:
            return data
    return data[start + 1:]


def read_tail(path, tail_lines=None, max_bytes=DEFAULT_MAX_BYTES):
    """The end of a console log.

    :param path: the log's path (``console.log``)
    :param tail_lines: at most this many last lines, or None for no limit
    :param max_bytes: at most this many last bytes
    :returns: ``{"output": str, "truncated": bool, "size": int}`` where
        size is the bytes in all the log's files and truncated says the
        output is not all of them
    :raises: DriverError if a log file cannot be read for lack of
        permission
    """
    files = log_files(path)
    total = 0
    for name in files:
        try:
            total += os.path.getsize(name)
        except FileNotFoundError:
            pass
    blocks = list(_read_backwards(files, max_bytes, tail_lines))
    data = b''.join(reversed(blocks))
    if tail_lines is not None:
        data = _last_lines(data, tail_lines)
    if len(data) > max_bytes:
        data = data[-max_bytes:]
        # Do not start in the middle of a UTF-8 character: drop its
        # continuation bytes (10xxxxxx) rather than show a U+FFFD.
        lead = 0
        while lead < min(3, len(data)) and data[lead] & 0xC0 == 0x80:
            lead += 1
        data = data[lead:]
    return {'output': data.decode('utf-8', errors='replace'),
            'truncated': len(data) < total,
            'size': total}
