"""``computeagent-ctl console --attach``: a terminal on a serial console.

Connects to the console proxy's URL (from get_serial_console), puts the
terminal in raw mode, so every key, Ctrl-C included, goes to the guest,
and copies the terminal's input to the websocket and what comes back to
the terminal, until the escape key (Ctrl-], as virsh console and telnet
use) is typed, the input ends, or the proxy closes the session. The
terminal's settings are restored however it ends.
"""

import asyncio
import contextlib
import os
import ssl as ssl_mod
import sys
import termios
import tty

from websockets.asyncio import client
import websockets.exceptions

#: the byte that leaves the console: Ctrl-]
ESCAPE = b'\x1d'
ESCAPE_NAME = 'Ctrl-] (^])'
#: seconds to connect and finish the opening handshake
OPEN_TIMEOUT = 10


class AttachError(Exception):
    """The console could not be attached: one line for the user."""


@contextlib.contextmanager
def raw_terminal(fd):
    """Raw mode on the terminal ``fd`` for the block; restored after.

    Not a terminal (input from a pipe): nothing to set or restore.
    """
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def ssl_context(url, ca_file=None):
    """The TLS context of a ``wss://`` URL (system CAs, or ``ca_file``)."""
    if not url.startswith('wss://'):
        return None
    return ssl_mod.create_default_context(cafile=ca_file)


async def _connect(url, ca_file):
    try:
        return await client.connect(url, ssl=ssl_context(url, ca_file),
                                    compression=None,
                                    open_timeout=OPEN_TIMEOUT,
                                    max_size=2 ** 16)
    except websockets.exceptions.InvalidStatus as e:
        body = (e.response.body or b'').decode('utf-8', 'replace').strip()
        raise AttachError('the console proxy refused: %d %s'
                          % (e.response.status_code, body))
    except (OSError, asyncio.TimeoutError,
            websockets.exceptions.InvalidHandshake) as e:
        raise AttachError('cannot reach the console proxy at %s: %s'
                          % (url.split('?')[0], e or type(e).__name__))


def _write_all(fd, data):
    while data:
        written = os.write(fd, data)
        data = data[written:]


async def _copy(websocket, stdin_fd, stdout_fd):
    """Copy both ways until one side ends; :returns: why it ended."""
    loop = asyncio.get_running_loop()
    typed = asyncio.Queue()

    def on_input():
        try:
            typed.put_nowait(os.read(stdin_fd, 1024))
        except OSError:
            typed.put_nowait(b'')

    async def upstream():
        while True:
            data = await typed.get()
            if not data:
                return 'the input ended'
            if ESCAPE in data:
                before = data[:data.index(ESCAPE)]
                if before:
                    await websocket.send(before)
                return None
            await websocket.send(data)

    async def downstream():
        try:
            async for message in websocket:
                if isinstance(message, str):
                    message = message.encode('utf-8')
                _write_all(stdout_fd, message)
        except websockets.exceptions.ConnectionClosedError:
            pass
        reason = websocket.close_reason or 'closed'
        return 'the console proxy ended the session (%s, %s)' % (
            websocket.close_code, reason)

    loop.add_reader(stdin_fd, on_input)
    try:
        tasks = [asyncio.ensure_future(upstream()),
                 asyncio.ensure_future(downstream())]
        done, pending = await asyncio.wait(
            tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return done.pop().result()
    finally:
        loop.remove_reader(stdin_fd)
        await websocket.close()


async def _attach(url, stdin_fd, stdout_fd, ca_file, banner):
    websocket = await _connect(url, ca_file)
    with raw_terminal(stdin_fd):
        if banner:
            # Once raw: what is typed after it reaches the guest, and is
            # echoed by nothing else. Raw output needs its own CR.
            sys.stderr.write(banner + '\r\n')
            sys.stderr.flush()
        return await _copy(websocket, stdin_fd, stdout_fd)


def attach(url, stdin_fd=0, stdout_fd=1, ca_file=None, banner=None):
    """Join the terminal to the console at ``url`` until it is left.

    :param banner: a line for stderr once attached (how to leave)
    :returns: None when left with the escape key, else a sentence
        saying why the session ended
    :raises: AttachError if the proxy refused or cannot be reached
    """
    return asyncio.run(_attach(url, stdin_fd, stdout_fd, ca_file, banner))
