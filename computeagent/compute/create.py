"""Creates: accepted, queued for a build slot, built or rolled back.

A mixin of :class:`computeagent.compute.manager.ComputeManager`, kept apart so
each module stays small; ``create_instance`` itself is the manager's.
It relies on the manager's ``_lock``, ``_builds``, ``_build_slots``,
``_refresh_state``, ``_remove_instance_dir``, resources, store, driver
and notifier.
"""

import os
import threading

from oslo_log import log as logging
from oslo_utils import timeutils

from computeagent.compute import states
from computeagent.compute import store as store_mod
from computeagent import exception
from computeagent.schema import instance
from computeagent.virt import driver as virt_driver
from computeagent.virt import layout

LOG = logging.getLogger(__name__)


class CreateOperations(object):
    """Builds instances for ``create_instance``."""

    def _create(self, ctxt, spec, known):
        """create_instance; ``known`` is filled with the record so far.

        The instance's lock is held to accept the create and again to
        spawn it, but not while it waits for a build slot nor while the
        driver prepares (fetches images): meanwhile its record says
        ``building``, a delete takes it away at once (the build then ends
        without making anything of the instance) and other operations are
        refused with InvalidState instead of waiting for the build.
        """
        normalized = instance.validate_spec(spec, self.conf)
        fingerprint = instance.spec_fingerprint(spec)
        uuid = normalized['uuid']
        while True:
            with self._lock(uuid):
                existing = self.store.get_entry(uuid)
                if existing is not None and (
                        existing.get('fingerprint') != fingerprint):
                    raise exception.InstanceExists(uuid=uuid)
                in_flight = self._builds.get(uuid)
                if in_flight is None:
                    if existing is not None:
                        return existing['record']
                    record = self._accept_create(ctxt, normalized,
                                                 fingerprint, known)
                    done = self._builds[uuid] = threading.Event()
                    break
            # The same create is being built (sent twice, or again after
            # a delete): answer once that build has ended, as a create
            # sent after it would be answered.
            in_flight.wait()
        try:
            record, timings = self._build(record, normalized, known)
        finally:
            with self._lock(uuid):
                del self._builds[uuid]
            done.set()
        self.notifier.instance(ctxt, 'create', 'end', record,
                               timings=timings)
        LOG.info('Instance %s is running', uuid)
        return record

    def _accept_create(self, ctxt, spec, fingerprint, known):
        """Claim, record (building) and announce a create; under its lock.

        :returns: the record
        """
        record = self._new_record(spec)
        self._refuse_taken_uuid(record, spec)
        # The record is saved (building) within the claim, before waiting
        # for a build slot: it claims its resources from the creates after
        # it, and is visible to get and list meanwhile.
        with self.resources.claim(spec):
            try:
                self.store.save(record, spec=spec, fingerprint=fingerprint)
            except Exception:
                self._remove_instance_dir(record['uuid'])
                raise
        known.update(record, state=states.ERROR)
        self.notifier.instance(ctxt, 'create', 'start', record)
        return record

    def _build(self, record, spec, known):
        """Wait for a build slot, prepare, then spawn under the lock.

        The driver's prepare (fetching images, which may take minutes)
        runs without the instance's lock, as the wait for a slot does.

        :returns: (the running record, timings)
        :raises: InstanceNotFound if the instance was deleted before it
            was spawned; the driver's error after rolling the create back
        """
        uuid = record['uuid']
        timings = {}
        with timeutils.StopWatch() as wait:
            self._build_slots.acquire()
        timings['queued'] = wait.elapsed()
        try:
            failure = None
            try:
                self.driver.prepare(spec, timings)
            except Exception as error:
                failure = error
            with self._lock(uuid):
                if self.store.get(uuid) is None:
                    known.update(state='deleted')
                    raise exception.InstanceNotFound(
                        'Instance %s was deleted before it was built.'
                        % uuid, uuid=uuid)
                try:
                    if failure is not None:
                        raise failure
                    placement = self.driver.spawn(spec, timings)
                except Exception as error:
                    LOG.error('Create of %(uuid)s failed: %(error)s',
                              {'uuid': uuid, 'error': error})
                    self._rollback_create(record, spec)
                    raise
                if placement.get('nics'):
                    spec['nics'] = placement['nics']
                record.update(state=states.RUNNING,
                              disks=placement['disks'],
                              serial_ports=placement['serial_ports'],
                              console_log=placement['console_log'])
                record = self.store.save(record, spec=spec)
                return self._refresh_state(record), timings
        finally:
            self._build_slots.release()

    def sweep_image_cache(self, timeout=60):
        """Let the driver remove cached images no instance uses.

        A service hook, not exposed over RPC. It runs holding every build
        slot: a build prepares (fetches its images) and spawns holding
        one, so no build can pick a base that the sweep then removes.
        Creates waiting for a slot have not fetched anything yet.

        :param timeout: seconds to wait for the builds running to end;
            if they do not, this round is skipped
        :returns: what the driver removed
        """
        deadline = timeutils.StopWatch(duration=timeout).start()
        taken = 0
        try:
            for _ in range(self.conf.max_concurrent_builds):
                if not self._build_slots.acquire(
                        timeout=deadline.leftover()):
                    LOG.info('Image cache sweep skipped: builds still '
                             'running after %d s', timeout)
                    return []
                taken += 1
            removed = self.driver.cleanup_image_cache(self.store.list())
        finally:
            for _ in range(taken):
                self._build_slots.release()
        if removed:
            LOG.info('Removed %d unused cached images', len(removed))
        return removed

    def _new_record(self, spec):
        return {'uuid': spec['uuid'], 'name': spec['name'],
                'host': self.host, 'state': states.BUILDING,
                'vcpus': spec['vcpus'], 'memory_mb': spec['memory_mb'],
                'disks': [], 'serial_ports': spec['serial_ports'],
                'console_log': None,
                'created_at': timeutils.utcnow().isoformat() + 'Z',
                'metadata': spec['metadata'], 'error': None}

    def _refuse_taken_uuid(self, record, spec):
        """Refuse, before anything is made, a create in what is not ours.

        A failed create removes the uuid's directory whole and destroys
        the uuid's guest (:meth:`_rollback_create`), so it may start
        only where that removes nothing the agent did not make.

        :raises: InstanceExists naming the directory and what is in it;
            DriverError if the hypervisor has a guest of that uuid
        """
        directory = self.store.instance_dir(record['uuid'])
        reason = layout.why_taken(directory, is_own=store_mod.is_temp_file)
        if reason:
            if os.path.lexists(os.path.join(directory,
                                            store_mod.RECORD_FILE)):
                reason += (' (%s: a record this agent has not loaded)'
                           % store_mod.RECORD_FILE)
            raise exception.InstanceExists(
                'Instance %s cannot be created here: %s; it is left as it '
                'is.' % (record['uuid'], reason), uuid=record['uuid'])
        if self.driver.get_power_state(
                dict(record, spec=spec)) is not virt_driver.NOSTATE:
            raise exception.DriverError(
                reason='the hypervisor already has a domain with uuid %s '
                'that this agent has no record of; it is left alone'
                % record['uuid'])

    def _rollback_create(self, record, spec):
        """Remove every trace of a create that failed part-way."""
        try:
            self.driver.destroy(dict(record, spec=spec))
        except Exception:
            LOG.exception('Rolling back %s: the driver could not clean up',
                          record['uuid'])
        self.store.delete(record['uuid'])
        self._remove_instance_dir(record['uuid'])
