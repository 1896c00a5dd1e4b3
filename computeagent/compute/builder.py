"""Creates: accepted, queued for a build slot, built or rolled back.

:class:`Builder` serves ``create_instance``. A create is accepted under
the instance's lock (its resources claimed, its record saved
``building``, ``instance.create.start`` sent), waits for one of the
build slots of :class:`computeagent.compute.locks.InstanceLocks`, lets
the driver prepare (fetch images) without the lock and spawns under it
again. A create that fails after it was accepted is rolled back: what
the driver made is destroyed, the record and directory removed.
"""

import dataclasses
import os
import threading

from oslo_log import log as logging
from oslo_utils import timeutils

from computeagent.compute import reconciler
from computeagent.compute import states
from computeagent.compute import store as store_mod
from computeagent import exception
from computeagent.objects import record as record_obj
from computeagent.objects import stored as stored_obj
from computeagent.schema import instance
from computeagent.virt import layout

LOG = logging.getLogger(__name__)


class Builder(object):
    """Builds instances for ``create_instance``.

    :param conf: the ConfigOpts (``host`` and what specs are checked
        against)
    :param driver: the virt driver
    :param store: the InstanceStore
    :param notifier: the Notifier
    :param resources: the ResourceTracker that admits creates
    :param locks: the InstanceLocks shared with the other parts
    :param runner: the OperationRunner, for its state refresh and error
        notifications
    :param reconciler: the Reconciler, which finishes a rollback that
        could not be finished at once
    """

    def __init__(self, conf, driver, store, notifier, resources, locks,
                 runner, reconciler):
        self.conf = conf
        self.driver = driver
        self.store = store
        self.notifier = notifier
        self.resources = resources
        self.locks = locks
        self.runner = runner
        self.reconciler = reconciler
        # uuid -> Event set when its create has ended; under its lock
        self._builds = {}

    def create(self, ctxt, spec):
        """create_instance: build ``spec`` and return its running record.

        The instance's lock is held to accept the create and again to
        spawn it, but not while it waits for a build slot nor while the
        driver prepares (fetches images): meanwhile its record says
        ``building``, a delete takes it away at once (the build then ends
        without making anything of the instance) and other operations are
        refused with InvalidState instead of waiting for the build.

        A create of a spec already built (or being built) answers with
        that instance's record. Any failure is sent as
        ``instance.create.error``.

        :param spec: the spec as the caller sent it
        :returns: the record, docs/api.md's dict
        :raises: InvalidSpec, InstanceExists, InsufficientResources,
            InstanceNotFound if it was deleted before it was built, the
            driver's errors
        """
        # The state is only "error" once a build of ours failed: a create
        # refused up front (a bad spec, InstanceExists) must not make a
        # listening controller think an existing instance broke.
        known = {'uuid': spec.get('uuid') if isinstance(spec, dict)
                 else None, 'state': None}
        try:
            return self._create(ctxt, spec, known)
        except Exception as error:
            self.runner.notify_error(ctxt, 'create', known, error)
            raise

    def _create(self, ctxt, spec, known):
        """:meth:`create`; ``known`` is filled with the record so far."""
        normalized = instance.validate_spec(spec, self.conf)
        fingerprint = instance.spec_fingerprint(spec)
        uuid = normalized.uuid
        while True:
            with self.locks.lock(uuid):
                existing = self._finish_rollback(
                    self.store.get_stored(uuid))
                if existing is not None and (
                        existing.fingerprint != fingerprint):
                    raise exception.InstanceExists(uuid=uuid)
                in_flight = self._builds.get(uuid)
                if in_flight is None:
                    if existing is not None:
                        # As the guest is now, not as it was stored.
                        record = self.runner.refresh_state(existing.record)
                        self.runner.notify_change(existing.record, record)
                        return record.to_dict()
                    record = self._accept(ctxt, normalized, fingerprint,
                                          known)
                    done = self._builds[uuid] = threading.Event()
                    break
            # The same create is being built (sent twice, or again after
            # a delete): answer once that build has ended, as a create
            # sent after it would be answered.
            in_flight.wait()
        try:
            record, timings = self._build(record, normalized, known)
        finally:
            with self.locks.lock(uuid):
                del self._builds[uuid]
            done.set()
        record = record.to_dict()
        self.notifier.instance(ctxt, 'create', 'end', record,
                               timings=timings)
        LOG.info('Instance %s is running', uuid)
        return record

    def _accept(self, ctxt, spec, fingerprint, known):
        """Claim, record (building) and announce a create; under its lock.

        :returns: the InstanceRecord
        """
        record = self.new_record(spec)
        self._refuse_taken_uuid(record, spec)
        # The record is saved (building) within the claim, before waiting
        # for a build slot: it claims its resources from the creates after
        # it, and is visible to get and list meanwhile.
        with self.resources.claim(spec):
            try:
                self.store.save(record, spec=spec, fingerprint=fingerprint)
            except Exception:
                self.store.remove_instance_dir(record.uuid)
                raise
        payload = record.to_dict()
        known.update(payload, state=states.ERROR)
        self.notifier.instance(ctxt, 'create', 'start', payload)
        return record

    def _build(self, record, spec, known):
        """Wait for a build slot, prepare, then spawn under the lock.

        The driver's prepare (fetching images, which may take minutes)
        runs without the instance's lock, as the wait for a slot does.

        :returns: (the running InstanceRecord, timings)
        :raises: InstanceNotFound if the instance was deleted before it
            was spawned; the driver's error after rolling the create back
        """
        uuid = record.uuid
        timings = {}
        slots = self.locks.build_slots
        with timeutils.StopWatch() as wait:
            slots.acquire()
        timings['queued'] = wait.elapsed()
        try:
            failure = None
            try:
                self.driver.prepare(spec, timings)
            except Exception as error:
                failure = error
            with self.locks.lock(uuid):
                if self.store.get(uuid) is None:
                    known.update(state='deleted')
                    raise exception.InstanceNotFound(
                        'Instance %s was deleted before it was built.'
                        % uuid, uuid=uuid)
                try:
                    if failure is not None:
                        raise failure
                    placement = self.driver.spawn(spec, timings)
                    built = spec
                    if placement.nics:
                        built = dataclasses.replace(spec,
                                                    nics=placement.nics)
                    # Within the rollback: a guest whose running record
                    # cannot be written (a full disk) is not kept.
                    record = self.store.save(dataclasses.replace(
                        record, state=states.RUNNING, disks=placement.disks,
                        serial_ports=placement.serial_ports,
                        parallel_ports=placement.parallel_ports,
                        console_log=placement.console_log), spec=built)
                except Exception as error:
                    LOG.error('Create of %(uuid)s failed: %(error)s',
                              {'uuid': uuid, 'error': error})
                    self._roll_back(record, spec)
                    raise
                # Not asked again: spawn returns once the hypervisor has
                # started the guest, and a change after that arrives as
                # a power event like any other.
                return record, timings
        finally:
            slots.release()

    def new_record(self, spec):
        """The record of a create of ``spec`` just accepted (building).

        :param spec: the InstanceSpec
        :returns: an InstanceRecord
        """
        return record_obj.InstanceRecord(
            uuid=spec.uuid, name=spec.name, host=self.conf.host,
            state=states.BUILDING, vcpus=spec.vcpus,
            memory_mb=spec.memory_mb, disks=(),
            serial_ports=spec.serial_ports,
            parallel_ports=spec.parallel_ports, console_log=None,
            created_at=timeutils.utcnow().isoformat() + 'Z',
            metadata=spec.metadata, error=None)

    def _refuse_taken_uuid(self, record, spec):
        """Refuse, before anything is made, a create in what is not ours.

        A failed create removes the uuid's directory whole and destroys
        the uuid's guest (:meth:`_roll_back`), so it may start only
        where that removes nothing the agent did not make.

        :raises: InstanceExists naming the directory and what is in it;
            DriverError if the hypervisor has a guest of that uuid
        """
        directory = self.store.instance_dir(record.uuid)
        reason = layout.why_taken(directory, is_own=store_mod.is_temp_file)
        if reason:
            if os.path.lexists(os.path.join(directory,
                                            store_mod.RECORD_FILE)):
                reason += (' (%s: a record this agent has not loaded)'
                           % store_mod.RECORD_FILE)
            raise exception.InstanceExists(
                'Instance %s cannot be created here: %s; it is left as it '
                'is.' % (record.uuid, reason), uuid=record.uuid)
        if self.driver.get_power_state(stored_obj.StoredInstance(
                record=record, spec=spec)) is not states.NOSTATE:
            raise exception.DriverError(
                reason='the hypervisor already has a domain with uuid %s '
                'that this agent has no record of; it is left alone'
                % record.uuid)

    def _roll_back(self, record, spec):
        """Remove every trace of a create that failed part-way.

        What the driver cannot remove now (its hypervisor is unreachable)
        is left to reconciliation: the record stays, in error with the
        task ``rolling_back``, until the driver has removed it all.
        """
        self.reconciler.roll_back(
            stored_obj.StoredInstance(record=record, spec=spec))

    def _finish_rollback(self, existing):
        """A stored instance, or None once its unfinished rollback is done.

        The same create sent again after its build failed finds the
        record of a rollback not finished yet: finishing it first lets
        the create start afresh. Under the instance's lock.

        :raises: DriverError if the rollback cannot be finished yet
        """
        if existing is None or existing.task != reconciler.ROLLING_BACK:
            return existing
        if self.reconciler.finish_task_locked(existing):
            return None
        error = self.store.get(existing.uuid).error
        raise exception.DriverError(
            reason='an earlier create of %s failed and what it made cannot '
                   'be removed yet: %s' % (existing.uuid, error))
