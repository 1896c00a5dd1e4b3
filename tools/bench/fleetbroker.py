"""A fleet's users, vhosts and permissions, provisioned in one import.

:mod:`computeagent.fleet.provision` adds a host with eight rabbitmqctl
commands, each of which boots an Erlang VM (about a second of CPU on the
bench's machine): the 64 hosts of a fleet of 32 agents and 32 floor
servers would take the bench's two CPUs for minutes, and in parallel no
less CPU. :class:`DefinitionsCtl` takes the place of
:class:`computeagent.fleet.rabbitmqctl.Rabbitmqctl` for provision's own
functions: it reads the node's users and vhosts once, records each change
as RabbitMQ definitions, and :meth:`DefinitionsCtl.apply` imports them in
one command. The grants are provision's, hence exactly those of
:mod:`computeagent.fleet.vhosts`; :func:`check` then compares what the
node holds with them.
"""

import json
import os
import shlex
import stat

from computeagent.fleet import rabbitmqctl
from computeagent.fleet import vhosts

#: The tool itself, not /usr/sbin's wrapper (which runs it as the rabbitmq
#: user, with the system node's Erlang cookie).
RABBITMQCTL = '/usr/lib/rabbitmq/bin/rabbitmqctl'


class UnsupportedChange(Exception):
    """A change provisioning asked for that the import does not make."""


class DefinitionsCtl(rabbitmqctl.Rabbitmqctl):
    """A Rabbitmqctl whose changes wait for one definitions import.

    :param node: the node's name
    :param executable: the command to run
    :param users: the node's user names; None: listed once, when needed
    :param vhosts: the node's vhost names; None: likewise
    """

    def __init__(self, node=None, executable='rabbitmqctl', users=None,
                 vhosts=None):
        super().__init__(node=node, executable=executable)
        self._users = None if users is None else set(users)
        self._vhosts = None if vhosts is None else set(vhosts)
        self._records = {'users': {}, 'vhosts': {}, 'permissions': {},
                         'topic_permissions': {}}
        #: every grant recorded, in order
        self.grants = []

    def users(self):
        if self._users is None:
            self._users = super().users()
        return set(self._users)

    def vhosts(self):
        if self._vhosts is None:
            self._vhosts = super().vhosts()
        return set(self._vhosts)

    def add_vhost(self, name):
        self.vhosts()
        self._vhosts.add(name)
        self._records['vhosts'][name] = {'name': name}

    def add_user(self, name, password=None):
        if password is None:
            # A user without a password needs a certificate to log in,
            # which a bench on plain AMQP has not.
            raise UnsupportedChange('user %s: the import sets passwords '
                                    'only' % name)
        self.users()
        self._users.add(name)
        self.set_password(name, password)

    def set_password(self, name, password):
        self._records['users'][name] = {'name': name, 'password': password,
                                        'tags': ''}

    def clear_password(self, name):
        raise UnsupportedChange('user %s: the import sets passwords only'
                                % name)

    def delete_vhost(self, name):
        raise UnsupportedChange('vhost %s: the import adds, never deletes'
                                % name)

    def delete_user(self, name):
        raise UnsupportedChange('user %s: the import adds, never deletes'
                                % name)

    def grant(self, grant):
        """Record a grant, replacing what the user had there before."""
        key = (grant.user, grant.vhost)
        self.grants = [g for g in self.grants
                       if (g.user, g.vhost) != key] + [grant]
        self._records['permissions'][key] = {
            'user': grant.user, 'vhost': grant.vhost,
            'configure': grant.configure, 'write': grant.write,
            'read': grant.read}
        self._records['topic_permissions'][key] = {
            'user': grant.user, 'vhost': grant.vhost,
            'exchange': vhosts.EXCHANGE, 'write': grant.topic_write,
            'read': grant.topic_read}

    def definitions(self):
        """What :meth:`apply` imports: RabbitMQ's definitions format."""
        return {kind: list(records.values())
                for kind, records in self._records.items()}

    def apply(self):
        """Import everything recorded, in one rabbitmqctl command.

        :raises: BrokerCommandError
        """
        # On standard input: the passwords are in it.
        self._run('import_definitions', '--format', 'json',
                  stdin=json.dumps(self.definitions()))

    def exported(self):
        """The node's definitions now (users, vhosts, permissions)."""
        output = self._run('export_definitions', '-', '--format', 'json',
                           '--silent')
        try:
            return json.loads(output)
        except ValueError:
            raise rabbitmqctl.BrokerCommandError(
                'export_definitions answered something other than JSON: '
                '%r' % output[:200])


def differences(exported, grants):
    """How the node's permissions differ from ``grants``.

    :param exported: the node's definitions (:meth:`DefinitionsCtl.exported`)
    :param grants: :class:`computeagent.fleet.vhosts.Grant` s
    :returns: sorted lines, one per permission missing or not granted;
        empty when, in the vhosts ``grants`` name, the users they name
        have exactly those permissions and topic permissions (a host's
        user none in another host's vhost)
    """
    users = {grant.user for grant in grants}
    places = {grant.vhost for grant in grants}
    expected = set()
    for grant in grants:
        expected.add(('permissions', grant.user, grant.vhost,
                      grant.configure, grant.write, grant.read))
        expected.add(('topic_permissions', grant.user, grant.vhost,
                      vhosts.EXCHANGE, grant.topic_write, grant.topic_read))
    found = set()
    for row in exported.get('permissions', []):
        if row['user'] in users and row['vhost'] in places:
            found.add(('permissions', row['user'], row['vhost'],
                       row['configure'], row['write'], row['read']))
    for row in exported.get('topic_permissions', []):
        if row['user'] in users and row['vhost'] in places:
            found.add(('topic_permissions', row['user'], row['vhost'],
                       row['exchange'], row['write'], row['read']))
    return sorted(['missing: %s' % (row,) for row in expected - found] +
                  ['not granted: %s' % (row,) for row in found - expected])


def check(ctl):
    """Whether the node holds exactly the grants ``ctl`` recorded.

    :param ctl: a :class:`DefinitionsCtl`, applied
    :raises RuntimeError: naming every difference
    """
    wrong = differences(ctl.exported(), ctl.grants)
    if wrong:
        raise RuntimeError('the broker does not hold the fleet\'s '
                           'permissions:\n' + '\n'.join(wrong))


def node_rabbitmqctl(broker):
    """An executable running rabbitmqctl against a private node.

    rabbitmqctl finds the node's Erlang cookie in ``HOME``, which for a
    :class:`tests.functional.private_rabbitmq.PrivateRabbitMQ` is its own
    directory; Rabbitmqctl runs its executable with the caller's
    environment, so this script sets it.

    :param broker: a started PrivateRabbitMQ
    :returns: the script's path, in the node's directory
    """
    path = os.path.join(broker.dir, 'rabbitmqctl')
    names = [name for name in sorted(broker.env)
             if name == 'HOME' or name.startswith('RABBITMQ_')]
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n')
        for name in names:
            f.write('export %s=%s\n' % (name, shlex.quote(broker.env[name])))
        f.write('exec %s "$@"\n' % RABBITMQCTL)
    os.chmod(path, stat.S_IRWXU)
    return path
