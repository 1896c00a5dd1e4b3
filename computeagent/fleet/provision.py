"""Adding and removing compute hosts and controllers on the broker.

Each step is idempotent: run again with the same arguments it changes
nothing, and run after a failure half way it finishes the work. A host's
user exists only with its vhost's permissions; removing the host deletes
its vhost, and with it the vhost's queues, messages and every user's
permissions there.

A user made without a password may log in only with a certificate
(``EXTERNAL``, the user being the certificate's common name). A password
given is set, also on an existing user; an existing user's password is
otherwise left as it is, unless ``certificate_only`` clears it.
"""

import dataclasses

from computeagent.fleet import vhosts


class ProvisionError(Exception):
    """What was asked cannot be done as asked (nothing was changed)."""


@dataclasses.dataclass
class Changes:
    """What one step changed on the broker, for the operator."""

    done: list = dataclasses.field(default_factory=list)

    def add(self, text):
        self.done.append(text)


def _user(ctl, name, password, certificate_only, existing, changes):
    if name not in existing:
        ctl.add_user(name, password)
        changes.add('user %s added (%s)' % (
            name, 'password' if password else 'certificate login only'))
    elif password is not None:
        ctl.set_password(name, password)
        changes.add('user %s: password set' % name)
    elif certificate_only:
        ctl.clear_password(name)
        changes.add('user %s: password cleared (certificate login only)'
                    % name)


def add_host(ctl, topic, host, controllers, password=None,
             certificate_only=False):
    """Make host ``host``'s vhost and user, and let ``controllers`` in.

    :param ctl: a :class:`computeagent.fleet.rabbitmqctl.Rabbitmqctl`
    :param controllers: names of controller users, which must exist
    :returns: :class:`Changes`
    :raises: ProvisionError, BrokerCommandError
    """
    vhost = vhosts.vhost_name(topic, host)
    if host in controllers:
        raise ProvisionError('%s cannot be both a host and a controller: '
                             'they are users of the same broker' % host)
    users = ctl.users()
    missing = sorted(set(controllers) - users)
    if missing:
        raise ProvisionError('no controller user %s on the broker: add it '
                             'first with add-controller'
                             % ', '.join(missing))
    changes = Changes()
    if vhost not in ctl.vhosts():
        ctl.add_vhost(vhost)
        changes.add('vhost %s added' % vhost)
    _user(ctl, host, password, certificate_only, users, changes)
    ctl.grant(vhosts.host_grant(topic, host))
    changes.add('%s may use vhost %s as its agent' % (host, vhost))
    for controller in controllers:
        ctl.grant(vhosts.controller_grant(topic, host, controller))
        changes.add('%s may command %s in vhost %s'
                    % (controller, host, vhost))
    return changes


def remove_host(ctl, topic, host):
    """Delete host ``host``'s vhost (its queues, messages) and user.

    :returns: :class:`Changes`
    """
    vhost = vhosts.vhost_name(topic, host)
    changes = Changes()
    if vhost in ctl.vhosts():
        ctl.delete_vhost(vhost)
        changes.add('vhost %s deleted, with its queues and permissions'
                    % vhost)
    if host in ctl.users():
        ctl.delete_user(host)
        changes.add('user %s deleted' % host)
    return changes


def _pairs(hosts):
    hosts = list(dict.fromkeys(hosts))
    if len(hosts) < 2:
        raise ProvisionError('peers are two hosts or more')
    return [(host, peer) for host in hosts for peer in hosts
            if host != peer]


def add_peers(ctl, topic, hosts):
    """Let each of ``hosts`` ask the others to take a live migration.

    Each may then publish to each other's peer topic in its vhost, and
    read the answers; nothing more (:func:`vhosts.peer_grant`). Hosts
    that migrate to each other share storage and libvirtd access
    already, which is more trust than this.

    :raises: ProvisionError if a host has no vhost or user yet
    """
    existing, users = ctl.vhosts(), ctl.users()
    missing = sorted(h for h in set(hosts)
                     if vhosts.vhost_name(topic, h) not in existing
                     or h not in users)
    if missing:
        raise ProvisionError('host %s not added yet: add-host first'
                             % ', '.join(missing))
    changes = Changes()
    for host, peer in _pairs(hosts):
        ctl.grant(vhosts.peer_grant(topic, host, peer))
        changes.add('%s may ask %s to take a live migration' % (peer, host))
    return changes


def remove_peers(ctl, topic, hosts):
    """Undo :func:`add_peers` between ``hosts`` (those still there)."""
    existing, users = ctl.vhosts(), ctl.users()
    changes = Changes()
    for host, peer in _pairs(hosts):
        vhost = vhosts.vhost_name(topic, host)
        if vhost in existing and peer in users:
            ctl.revoke(peer, vhost)
            changes.add('%s may no longer ask %s' % (peer, host))
    return changes


def add_controller(ctl, topic, name, hosts=(), password=None,
                   certificate_only=False):
    """Make controller user ``name``; let it command ``hosts``.

    Hosts added later name their controllers themselves (add_host).

    :raises: ProvisionError if a host has no vhost yet
    """
    vhosts.check_host_name(name)
    existing = ctl.vhosts()
    missing = sorted(h for h in hosts
                     if vhosts.vhost_name(topic, h) not in existing)
    if missing:
        raise ProvisionError('no vhost for host %s: add the host first'
                             % ', '.join(missing))
    changes = Changes()
    _user(ctl, name, password, certificate_only, ctl.users(), changes)
    for host in hosts:
        ctl.grant(vhosts.controller_grant(topic, host, name))
        changes.add('%s may command %s in vhost %s'
                    % (name, host, vhosts.vhost_name(topic, host)))
    return changes


def remove_controller(ctl, name):
    """Delete controller user ``name`` and so its permissions everywhere."""
    changes = Changes()
    if name in ctl.users():
        ctl.delete_user(name)
        changes.add('user %s deleted' % name)
    return changes
