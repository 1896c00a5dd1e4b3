"""The console proxy: a websocket joined to a serial port's chardev.

A client connects to ``ws[s]://<proxy>/?token=<token>`` with a token
from get_serial_console. The token is checked during the opening
handshake, so a refusal is an HTTP answer, not a websocket:

- no token, an unknown one, one used already or an expired one:
  ``403 Forbidden`` (the body says which);
- a serial port that already has a console session of this proxy:
  ``409 Conflict``, body ``busy: ...``; the token is not used up and
  works once the port is free, until it expires.

Otherwise the token is used up and the session runs: what the client
sends (binary frames; text frames are taken as UTF-8) goes to the
chardev, what the chardev gives comes back as binary frames. It ends
when either side closes: the chardev closing (the guest stopped) closes
the websocket with code 1000 and reason ``serial port closed``; a
chardev that cannot be reached closes it with 1011 and the reason.

One asyncio event loop serves every session; the token check and the
port's reservation happen in one step of the loop, so two clients can
never both get one port.
"""

import asyncio
import http
import urllib.parse

from oslo_log import log as logging
from websockets.asyncio import server as ws_server
import websockets.exceptions

from computeagent.console import chardev
from computeagent.console import tokens as tokens_mod

LOG = logging.getLogger(__name__)

#: close code and reason when the serial port's chardev closed
CLOSED_CODE = 1000
CLOSED_REASON = 'serial port closed'
#: close code when the chardev cannot be reached
UNREACHABLE_CODE = 1011
_READ_SIZE = 4096


class ConsoleProxy(object):
    """Serves console sessions for the tokens of one token store.

    :param store: the TokenStore shared with the agent
    :param open_target: coroutine function ConsoleTarget -> (reader,
        writer); default :func:`computeagent.console.chardev.open_target`
    """

    def __init__(self, store, open_target=chardev.open_target):
        self.store = store
        self.open_target = open_target
        #: (uuid, port) -> the ServerConnection holding it
        self._busy = {}
        #: ServerConnection -> the ConsoleGrant it claimed
        self._grants = {}

    def sessions(self):
        """:returns: the (uuid, port) pairs with a console attached"""
        return set(self._busy)

    async def serve(self, host, port, ssl=None):
        """Start listening; returns the websockets Server.

        :param ssl: an SSLContext to serve wss:// only, or None
        """
        return await ws_server.serve(
            self._session, host, port, ssl=ssl,
            process_request=self._check_request,
            # Bytes of a terminal, not a stream worth compressing.
            compression=None, max_size=2 ** 16)

    # -- the opening handshake ----------------------------------------

    def _check_request(self, connection, request):
        """Claim the request's token, or answer with the refusal.

        Runs with no await: the busy check and the claim are one step
        of the event loop.
        """
        query = urllib.parse.urlsplit(request.path).query
        token = (urllib.parse.parse_qs(query).get('token') or [None])[0]
        try:
            grant = self.store.peek(token)
        except tokens_mod.TokenRefused as e:
            return self._refuse(connection, http.HTTPStatus.FORBIDDEN,
                                'console token refused: %s' % e.reason)
        key = (grant.uuid, grant.port)
        if key in self._busy:
            return self._refuse(
                connection, http.HTTPStatus.CONFLICT,
                'busy: serial port %d of instance %s already has a console '
                'attached; this token stays valid until it expires'
                % (grant.port, grant.uuid))
        try:
            grant = self.store.claim(token)
        except tokens_mod.TokenRefused as e:
            return self._refuse(connection, http.HTTPStatus.FORBIDDEN,
                                'console token refused: %s' % e.reason)
        self._busy[key] = connection
        self._grants[connection] = grant
        # Whatever ends the connection (a handshake the client drops, a
        # session's end) frees the port.
        connection.connection_lost_waiter.add_done_callback(
            lambda _future: self._release(connection))
        LOG.info('Console of instance %(uuid)s port %(port)d attached '
                 'from %(peer)s', {'uuid': grant.uuid, 'port': grant.port,
                                   'peer': connection.remote_address})
        return None

    @staticmethod
    def _refuse(connection, status, text):
        LOG.info('Console refused to %(peer)s: %(status)d %(text)s',
                 {'peer': connection.remote_address,
                  'status': status.value, 'text': text})
        return connection.respond(status, text + '\n')

    def _release(self, connection):
        grant = self._grants.pop(connection, None)
        if grant is None:
            return
        key = (grant.uuid, grant.port)
        if self._busy.get(key) is connection:
            del self._busy[key]
            LOG.info('Console of instance %(uuid)s port %(port)d detached',
                     {'uuid': grant.uuid, 'port': grant.port})

    # -- the session ----------------------------------------------------

    async def _session(self, connection):
        grant = self._grants.get(connection)
        if grant is None:
            return
        try:
            try:
                reader, writer = await self.open_target(grant.target)
            except (OSError, ValueError) as e:
                LOG.warning('Cannot reach serial port %(port)d of '
                            '%(uuid)s: %(error)s',
                            {'port': grant.port, 'uuid': grant.uuid,
                             'error': e})
                await connection.close(
                    UNREACHABLE_CODE,
                    ('cannot reach serial port %d: %s'
                     % (grant.port, e))[:120])
                return
            try:
                await self._join(connection, reader, writer)
            finally:
                writer.close()
        finally:
            self._release(connection)

    async def _join(self, connection, reader, writer):
        to_port = asyncio.ensure_future(self._to_port(connection, writer))
        from_port = asyncio.ensure_future(self._from_port(connection,
                                                          reader))
        done, pending = await asyncio.wait(
            (to_port, from_port), return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if from_port in done:
            # The chardev closed (or failed): the guest is gone.
            await connection.close(CLOSED_CODE, CLOSED_REASON)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(
                    error, (OSError, websockets.exceptions.ConnectionClosed)):
                LOG.error('Console session failed: %s', error,
                          exc_info=error)

    @staticmethod
    async def _to_port(connection, writer):
        async for message in connection:
            if isinstance(message, str):
                message = message.encode('utf-8')
            writer.write(message)
            await writer.drain()

    @staticmethod
    async def _from_port(connection, reader):
        while True:
            try:
                data = await reader.read(_READ_SIZE)
            except OSError:
                # A pty whose other end is gone reads EIO.
                return
            if not data:
                return
            await connection.send(data)
