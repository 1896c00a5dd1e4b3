"""The host end of a serial port, opened as an asyncio byte stream.

A ``unix`` port is QEMU's listening socket in the instance directory, a
``tcp`` port its listening TCP socket, a ``pty`` port the pty device
libvirt's live domain XML names. Each is opened as a (StreamReader,
StreamWriter) pair; the console proxy copies bytes between it and a
websocket. QEMU serves one client per socket chardev: a second
connection waits in the listen backlog until the first is closed, which
is why the proxy itself refuses a second session on a port.
"""

import asyncio
import os
import termios
import tty

from computeagent.objects import console


async def _open_pty(path):
    loop = asyncio.get_running_loop()
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        # Bytes pass unaltered: no echo, no line editing, no CR/LF
        # translation by the pty's line discipline on our side. At once
        # (TCSANOW), not tty's default TCSAFLUSH, which would discard
        # what the guest printed just before the console joined.
        tty.setraw(fd, termios.TCSANOW)
        write_fd = os.dup(fd)
    except BaseException:
        os.close(fd)
        raise
    reader = asyncio.StreamReader()
    read_protocol = asyncio.StreamReaderProtocol(reader)
    try:
        await loop.connect_read_pipe(lambda: read_protocol,
                                     os.fdopen(fd, 'rb', buffering=0))
    except BaseException:
        os.close(write_fd)
        raise
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin,
        os.fdopen(write_fd, 'wb', buffering=0))
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return reader, writer


async def open_target(target):
    """Connect to a serial port's host end.

    :param target: a ConsoleTarget
    :returns: (asyncio.StreamReader, asyncio.StreamWriter)
    :raises: OSError if it cannot be reached (the guest stopped, ...);
        ValueError for a kind that has no host end
    """
    if target.kind == 'unix':
        return await asyncio.open_unix_connection(target.path)
    if target.kind == 'tcp':
        return await asyncio.open_connection(target.host, target.port)
    if target.kind == 'pty':
        return await _open_pty(target.path)
    raise ValueError('a %s port has no end a console can join (only %s)'
                     % (target.kind, ', '.join(console.INTERACTIVE_TYPES)))
