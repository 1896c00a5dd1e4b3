"""Live migration between hosts sharing the instances path.

The instance's files stay where they are, on storage both hosts share
(``[DEFAULT] instances_path_shared``); the guest moves, and then the
record: the destination owns it, the source forgets it.

Source, :meth:`LiveMigration.migrate` (under the instance's lock):

1. the destination prepares (:meth:`LiveMigration.prepare_incoming`
   there, asked through the peers channel): the record on the shared
   path must name the source, the instance must fit; it answers where
   its hypervisor takes the guest;
2. the record is marked ``migrating_to`` the destination (durable): the
   source's power events about the departing guest are the migration's
   to settle, and the destination leaves the arriving guest alone;
3. the driver moves the guest; on failure the guest is still here, the
   mark is removed and the destination told to forget it;
4. the record is handed over (rewritten naming the destination) and
   the destination told to adopt it (:meth:`LiveMigration.finish_incoming`).

A crash between 3 and 4 is finished by start-up recovery on the source
(:func:`settle_after_restart`): a marked record whose guest is gone was
moved, one whose guest is here was not; a hand-over that failed (a full
disk) is finished so by the source's next reconciliation pass. A
destination that missed the adoption finds the record naming it on its
next reconciliation pass.
"""

import threading
import time

from oslo_log import log as logging

from computeagent.compute import states
from computeagent import exception
from computeagent.schema import instance

LOG = logging.getLogger(__name__)

#: the ``<action>`` of the notifications
ACTION = 'live_migration'
#: seconds a prepared destination waits for the migration's end
INCOMING_TTL = 3600


class LiveMigration(object):
    """Both ends of live migrations on one host.

    :param conf: the ConfigOpts (``host``, ``instances_path_shared``)
    :param driver: the virt driver
    :param store: the InstanceStore
    :param notifier: the Notifier
    :param resources: the ResourceTracker (the destination's check)
    :param runner: the OperationRunner (record refresh, notifications)
    :param locks: the InstanceLocks
    :param peers: how this host asks another host's agent (set by the
        service: ``prepare``, ``finish`` and ``abort`` of
        :mod:`computeagent.api.peers`); None: migrations are refused
    """

    def __init__(self, conf, driver, store, notifier, resources, runner,
                 locks, peers=None):
        self.conf = conf
        self.driver = driver
        self.store = store
        self.notifier = notifier
        self.resources = resources
        self.runner = runner
        self.locks = locks
        self.peers = peers
        # uuid -> (source host, monotonic deadline) of guests prepared for
        self._incoming = {}
        self._incoming_lock = threading.Lock()

    # -- source ------------------------------------------------------------

    def migrate(self, ctxt, uuid, dest_host):
        """Move a running or paused instance's guest to ``dest_host``.

        :returns: the record as the destination owns it (docs/api.md's
            dict, ``host`` the destination)
        :raises: InvalidSpec, InstanceNotFound, InvalidState,
            MigrationFailed (the guest still runs here, its record as it
            was)
        """
        uuid = instance.validate_uuid(uuid)
        dest_host = instance.validate_host(dest_host, 'dest_host')
        if dest_host == self.conf.host:
            raise exception.InvalidSpec(
                field='dest_host', reason='the instance is on %s already'
                % dest_host)
        known = {'uuid': uuid}
        try:
            with self.locks.lock(uuid):
                stored = known = self.runner.get(uuid)
                record = known = self.runner.refresh_state(stored)
                self.runner.notify_change(stored, record)
                if record.state not in states.ALLOWED['live_migrate']:
                    raise exception.InvalidState(
                        action='live migrate', uuid=uuid, state=record.state)
                self._check_possible(dest_host)
                self.notifier.instance(ctxt, ACTION, 'start',
                                       dict(record.to_dict(),
                                            dest_host=dest_host))
                moved = self._move(ctxt, uuid, dest_host)
        except Exception as error:
            if not isinstance(known, dict):
                known = self.store.get(known.uuid) or known
                known = dict(known.to_dict(), dest_host=dest_host)
            self.runner.notify_error(ctxt, ACTION, known, error)
            raise
        result = moved.record.to_dict()
        self.notifier.instance(ctxt, ACTION, 'end',
                               dict(result, source_host=self.conf.host))
        return result

    def _check_possible(self, dest_host):
        if not self.conf.instances_path_shared:
            raise exception.MigrationFailed(
                reason='live migration needs instances_path on storage '
                       'the hosts share ([DEFAULT] instances_path_shared)')
        if self.peers is None:
            raise exception.MigrationFailed(
                reason='this agent cannot reach other hosts\' agents')

    def _move(self, ctxt, uuid, dest_host):
        """Steps 1 to 4 of the module's docstring; the lock is held."""
        try:
            target = self.peers.prepare(ctxt, dest_host, uuid,
                                        self.conf.host)
        except exception.MigrationFailed:
            raise  # the destination's own reason
        except Exception as error:
            raise exception.MigrationFailed(
                reason='the agent of %s did not answer: %s'
                % (dest_host, error))
        try:
            self.store.set_migrating(uuid, dest_host)
        except Exception:
            self._tell(self.peers.abort, ctxt, dest_host, uuid)
            raise
        try:
            self.driver.live_migrate(
                self.runner.driver_view(self.store.get(uuid)), target)
        except Exception as error:
            # The driver's promise: on failure the guest is still here.
            self.store.set_migrating(uuid, None)
            self._tell(self.peers.abort, ctxt, dest_host, uuid)
            raise exception.MigrationFailed(
                reason='the guest could not be moved to %s: %s'
                % (dest_host, error))
        moved = self.store.hand_over(uuid, dest_host)
        LOG.info('Instance %(uuid)s moved to %(dest)s',
                 {'uuid': uuid, 'dest': dest_host})
        self._tell(self.peers.finish, ctxt, dest_host, uuid)
        return moved

    @staticmethod
    def _tell(call, ctxt, host, uuid):
        """Tell the other end; it also finds out by itself if this fails."""
        try:
            call(ctxt, host, uuid)
        except Exception as error:
            LOG.warning('Could not tell %(host)s about instance %(uuid)s '
                        '(its reconciliation will see it): %(error)s',
                        {'host': host, 'uuid': uuid, 'error': error})

    # -- destination -------------------------------------------------------

    def prepare_incoming(self, uuid, source_host):
        """Agree to take ``uuid``'s guest from ``source_host``.

        :returns: where this host's hypervisor takes the guest (the
            driver's :meth:`live_migration_target`)
        :raises: MigrationFailed, InsufficientResources, DriverError
        """
        uuid = instance.validate_uuid(uuid)
        if not self.conf.instances_path_shared:
            raise exception.MigrationFailed(
                reason='%s does not share its instances path'
                % self.conf.host)
        stored = self.store.read(uuid)
        if stored is None or stored.record.host != source_host:
            raise exception.MigrationFailed(
                reason='no record of instance %s of host %s on the shared '
                       'instances path of %s' % (uuid, source_host,
                                                 self.conf.host))
        if stored.spec is not None:
            # The disks are on shared storage, counted there already.
            self.resources.check(stored.spec, disk_mb=0)
        target = self.driver.live_migration_target()
        with self._incoming_lock:
            self._incoming[uuid] = (source_host,
                                    time.monotonic() + INCOMING_TTL)
        LOG.info('Ready to receive instance %(uuid)s from %(source)s',
                 {'uuid': uuid, 'source': source_host})
        return target

    def finish_incoming(self, uuid):
        """Take on the record handed over with the guest.

        :returns: the record (docs/api.md's dict)
        :raises: MigrationFailed if the record on the shared path does
            not name this host
        """
        uuid = instance.validate_uuid(uuid)
        with self.locks.lock(uuid):
            with self._incoming_lock:
                self._incoming.pop(uuid, None)
            stored = self.store.adopt(uuid)
            if stored is None:
                raise exception.MigrationFailed(
                    reason='the record of instance %s does not name %s'
                    % (uuid, self.conf.host))
            record = self.runner.refresh_state(stored.record)
        LOG.info('Instance %s arrived: its record is this host\'s', uuid)
        return record.to_dict()

    def abort_incoming(self, uuid):
        """Forget a guest prepared for that will not come."""
        uuid = instance.validate_uuid(uuid)
        with self._incoming_lock:
            self._incoming.pop(uuid, None)

    def incoming(self):
        """Uuids of guests prepared for, whose migration has not ended."""
        now = time.monotonic()
        with self._incoming_lock:
            for uuid, (_source, deadline) in list(self._incoming.items()):
                if deadline < now:
                    del self._incoming[uuid]
            return set(self._incoming)


def settle_after_restart(store, driver, stored, notifier, ctxt):
    """Finish a migration the source's agent stopped during.

    :param stored: a StoredInstance marked ``migrating_to``
    :returns: 'migrated' (handed over) or 'stayed' (mark removed)
    """
    if driver.get_power_state(stored) is states.NOSTATE:
        moved = store.hand_over(stored.uuid, stored.migrating_to)
        notifier.instance(ctxt, ACTION, 'end',
                          dict(moved.record.to_dict(),
                               source_host=stored.record.host))
        return 'migrated'
    store.set_migrating(stored.uuid, None)
    return 'stayed'
