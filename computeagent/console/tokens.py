"""One-time console tokens, on disk, shared by the agent and the proxy.

The agent and the console proxy are two processes on one node; the
token directory is all they share. Each token is one file named by the
SHA-256 of the token, so the directory never holds a token itself (a
reader of it cannot connect), with the :class:`ConsoleGrant` as JSON.
Files are written atomically and durably (:mod:`computeagent.durable`),
so a crash leaves a token whole or not at all. The proxy claims a token
by unlinking its file: of two claims of one token exactly one unlinks
it, so a token works once, also across proxy restarts. Expired files
are swept whenever a token is issued and when the proxy starts.
"""

import hashlib
import json
import os
import secrets
import time

from computeagent import durable
from computeagent.objects import console

#: the default directory under ``[DEFAULT] instances_path``
DIRECTORY = '.console-tokens'
_SUFFIX = '.json'
_TEMP_PREFIX = '.tmp-'
#: a temporary file this old was left by a writer that died
_STALE_TEMP_SECONDS = 300
#: bytes of randomness in a token (secrets.token_urlsafe: 43 characters)
TOKEN_BYTES = 32
_MAX_TOKEN_LENGTH = 256


class TokenRefused(Exception):
    """A token that grants nothing: unknown, used already, or expired.

    :ivar reason: what the client is told
    """

    def __init__(self, reason):
        self.reason = reason
        super().__init__(reason)


def token_dir(conf):
    """The token directory the agent and the proxy of ``conf`` share.

    ``[console] token_dir``, else ``<instances_path>/.console-tokens``,
    or ``.console-tokens.<host>`` on an instances path shared by hosts
    (each host's proxy joins only its own guests).
    """
    if conf.console.token_dir:
        return os.path.abspath(conf.console.token_dir)
    name = DIRECTORY
    if conf.instances_path_shared:
        name = '%s.%s' % (DIRECTORY, conf.host)
    return os.path.join(os.path.abspath(conf.instances_path), name)


def _file_name(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest() + _SUFFIX


class TokenStore(object):
    """The console tokens of one node.

    :param directory: the token directory (made 0700 when missing)
    :param clock: seconds since the epoch (time.time), for tests
    """

    def __init__(self, directory, clock=time.time):
        self.directory = directory
        self.clock = clock

    def _path(self, token):
        if (not isinstance(token, str) or not token
                or len(token) > _MAX_TOKEN_LENGTH):
            raise TokenRefused('no token, or a malformed one')
        return os.path.join(self.directory, _file_name(token))

    def issue(self, uuid, port, target, ttl):
        """Make a token for one serial port, valid ``ttl`` seconds.

        :param target: the port's ConsoleTarget
        :returns: (token, ConsoleGrant)
        :raises: OSError if the token cannot be written
        """
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self.sweep()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        grant = console.ConsoleGrant(uuid=uuid, port=port, target=target,
                                     expires_at=self.clock() + ttl)
        # mkstemp makes the file 0600: only the agent's user (and the
        # proxy, running as it) reads what it grants.
        durable.write_file(self._path(token), json.dumps(grant.to_dict()),
                           _TEMP_PREFIX)
        return token, grant

    def _read(self, path):
        try:
            with open(path) as f:
                return console.ConsoleGrant.from_dict(json.load(f))
        except (FileNotFoundError, ValueError, TypeError, KeyError):
            # Gone, or not one of ours (durable writes are whole).
            raise TokenRefused('the token is unknown, or was used already')

    def peek(self, token):
        """What a token grants, without using it up.

        :returns: the ConsoleGrant
        :raises: TokenRefused (an expired token's file is removed)
        """
        path = self._path(token)
        grant = self._read(path)
        if grant.expires_at <= self.clock():
            self._remove(path)
            raise TokenRefused('the token has expired')
        return grant

    def claim(self, token):
        """Use a token up: it grants this once and never again.

        :returns: the ConsoleGrant
        :raises: TokenRefused if it is unknown, was claimed before (by
            any process) or has expired
        """
        path = self._path(token)
        grant = self._read(path)
        if not self._remove(path):
            # Another claim unlinked it between our read and our unlink.
            raise TokenRefused('the token is unknown, or was used already')
        if grant.expires_at <= self.clock():
            raise TokenRefused('the token has expired')
        return grant

    def _remove(self, path):
        """Unlink a token's file durably; False if it was gone."""
        if not self._unlink(path):
            return False
        # A claim must not come back after a power loss.
        durable.fsync_dir(self.directory)
        return True

    def sweep(self):
        """Remove expired tokens and what dead writers left.

        :returns: how many files were removed
        """
        removed = 0
        now = self.clock()
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return 0
        for entry in entries:
            if entry.name.startswith(_TEMP_PREFIX):
                try:
                    stale = (time.time() - entry.stat().st_mtime
                             > _STALE_TEMP_SECONDS)
                except FileNotFoundError:
                    continue
                if stale and self._unlink(entry.path):
                    removed += 1
            elif entry.name.endswith(_SUFFIX):
                try:
                    expired = self._read(entry.path).expires_at <= now
                except TokenRefused:
                    continue
                if expired and self._unlink(entry.path):
                    removed += 1
        return removed

    @staticmethod
    def _unlink(path):
        try:
            os.unlink(path)
            return True
        except FileNotFoundError:
            return False
