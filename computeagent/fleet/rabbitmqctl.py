"""RabbitMQ's own command line, ``rabbitmqctl``, as the fleet needs it.

The management HTTP API would need a plugin and credentials of its own;
``rabbitmqctl`` is on every broker node and speaks to the node through
Erlang distribution (the caller needs the node's cookie: run it as the
broker's user, or with its ``HOME``). Every call is an argument list,
never a shell; passwords go on standard input, never on the command
line where ``ps`` would show them.
"""

import json
import secrets
import subprocess

from computeagent.fleet import vhosts

#: Seconds one rabbitmqctl call may take (an Erlang VM starts each time).
TIMEOUT = 120


class BrokerCommandError(Exception):
    """rabbitmqctl failed, or could not be run."""


class Rabbitmqctl(object):
    """The commands of one broker node.

    :param node: the node's name (``rabbit@host``); default rabbitmqctl's
    :param executable: the command to run
    :param env: its environment (``HOME`` finds the node's Erlang
        cookie); default this process's
    """

    def __init__(self, node=None, executable='rabbitmqctl', env=None):
        self.node = node
        self.executable = executable
        self.env = env

    def _run(self, *args, stdin=None):
        argv = [self.executable]
        if self.node:
            argv += ['-n', self.node]
        argv += list(args)
        try:
            done = subprocess.run(argv, input=stdin, capture_output=True,
                                  text=True, timeout=TIMEOUT, env=self.env)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BrokerCommandError('cannot run %s: %s'
                                     % (self.executable, error))
        if done.returncode != 0:
            # rabbitmqctl says what went wrong on stderr, sometimes on
            # stdout; the command and its words are what an operator
            # needs.
            words = (done.stderr.strip() or done.stdout.strip() or
                     'exit status %d' % done.returncode)
            raise BrokerCommandError('%s %s failed: %s'
                                     % (self.executable, args[0], words))
        return done.stdout

    def _listing(self, *args):
        output = self._run(*args, '--formatter', 'json', '--silent')
        try:
            return json.loads(output or '[]')
        except ValueError:
            raise BrokerCommandError('%s %s answered something other than '
                                     'JSON: %r' % (self.executable, args[0],
                                                   output[:200]))

    def vhosts(self):
        """The names of the node's vhosts."""
        return {row['name'] for row in self._listing('list_vhosts', 'name')}

    def users(self):
        """The names of the node's users."""
        return {row['user'] for row in self._listing('list_users')}

    def add_vhost(self, name):
        self._run('add_vhost', name)

    def delete_vhost(self, name):
        """Delete a vhost with its queues, exchanges and permissions."""
        self._run('delete_vhost', name)

    def add_user(self, name, password=None):
        """Add a user; without a password it may log in only by certificate.

        rabbitmqctl needs some password to add a user: a throwaway one is
        given and cleared at once.
        """
        first = password or secrets.token_urlsafe(32)
        self._run('add_user', name, stdin=first + '\n')
        if password is None:
            self.clear_password(name)

    def set_password(self, name, password):
        self._run('change_password', name, stdin=password + '\n')

    def clear_password(self, name):
        """Leave the user no password: only certificate login (EXTERNAL)."""
        self._run('clear_password', name)

    def delete_user(self, name):
        self._run('delete_user', name)

    def grant(self, grant):
        """Set a :class:`vhosts.Grant`, replacing what the user had there."""
        self._run('set_permissions', '-p', grant.vhost, grant.user,
                  grant.configure, grant.write, grant.read)
        self._run('set_topic_permissions', '-p', grant.vhost, grant.user,
                  vhosts.EXCHANGE, grant.topic_write, grant.topic_read)

    def revoke(self, user, vhost):
        """Take every right of ``user`` in ``vhost`` away."""
        self._run('clear_permissions', '-p', vhost, user)
        self._run('clear_topic_permissions', '-p', vhost, user)

    def permissions(self, vhost):
        """``{user: (configure, write, read)}`` in ``vhost``."""
        return {row['user']: (row['configure'], row['write'], row['read'])
                for row in self._listing('list_permissions', '-p', vhost)}
