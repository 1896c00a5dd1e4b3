"""The RPC endpoint: every method of API.md.

The manager validates requests before any driver sees them, serialises
the requests of one instance with a per-uuid lock, bounds concurrent
builds, keeps the instance records and sends the notifications. All
hypervisor work is the driver's.
"""

import queue
import shutil
import threading

from oslo_concurrency import lockutils
from oslo_log import log as logging
import oslo_messaging

from computeagent.api import dispatch
from computeagent.compute import create
from computeagent.compute import disk_operations
from computeagent.compute import power_sync
from computeagent.compute import recovery
from computeagent.compute import resources
from computeagent.compute import states
from computeagent import exception
from computeagent.schema import instance
from computeagent import version
from computeagent.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

RPC_API_VERSION = '1.0'

# Keys of the public record (API.md, "Instance record").
RECORD_KEYS = ('uuid', 'name', 'host', 'state', 'vcpus', 'memory_mb',
               'disks', 'serial_ports', 'console_log', 'created_at',
               'metadata', 'error')


class ComputeManager(create.CreateOperations,
                     disk_operations.DiskOperations,
                     power_sync.PowerEvents):
    """Serves API.md on one host."""

    target = oslo_messaging.Target(version=RPC_API_VERSION)

    def __init__(self, conf, driver, store, notifier):
        self.conf = conf
        self.driver = driver
        self.store = store
        self.notifier = notifier
        self.host = conf.host
        self._locks = lockutils.Semaphores()
        self._build_slots = threading.BoundedSemaphore(
            conf.max_concurrent_builds)
        # uuid -> Event set when its create has ended; under its lock
        self._builds = {}
        self.resources = resources.ResourceTracker(conf, driver, store)
        self._events = queue.Queue()

    # -- internals -------------------------------------------------------

    def _lock(self, uuid):
        return lockutils.lock('instance-%s' % uuid,
                              semaphores=self._locks)

    def _record(self, uuid):
        record = self.store.get(uuid)
        if record is None:
            raise exception.InstanceNotFound(uuid=uuid)
        return record

    def _driver_view(self, record):
        """The record as drivers get it: with the normalized spec.

        :raises: InstanceNotFound if it was deleted meanwhile (callers
            that do not hold the instance's lock may see that)
        """
        entry = self.store.get_entry(record['uuid'])
        if entry is None:
            raise exception.InstanceNotFound(uuid=record['uuid'])
        return dict(record, spec=entry['spec'])

    def _refresh_state(self, record, recover=False):
        """Bring the record's state in line with the hypervisor's.

        :param recover: also a record in error: an operation on it (a
            hard reboot, a stop) has just succeeded
        """
        if record['state'] == states.BUILDING or (
                record['state'] == states.ERROR and not recover):
            return record
        power = self.driver.get_power_state(record)
        if power is virt_driver.NOSTATE:
            if record['state'] == states.ERROR:
                return record
            return self.store.update(
                record['uuid'], state=states.ERROR,
                error='the guest is gone from the hypervisor')
        if power != record['state']:
            LOG.info('Instance %(uuid)s is %(new)s (was %(old)s)',
                     {'uuid': record['uuid'], 'new': power,
                      'old': record['state']})
            return self.store.update(record['uuid'], state=power,
                                     error=None)
        return record

    def _check_state(self, record, operation):
        if record['state'] not in states.ALLOWED[operation]:
            raise exception.InvalidState(
                action=operation.replace('_', ' '), uuid=record['uuid'],
                state=record['state'])

    def _remove_instance_dir(self, uuid):
        shutil.rmtree(self.store.instance_dir(uuid), ignore_errors=True)

    def _notify_error(self, ctxt, action, payload, error):
        """Send ``instance.<action>.error``.

        The payload is the record as far as it is known, with what went
        wrong: a cast's caller learns of a failure only this way.
        """
        self.notifier.instance(
            ctxt, action, 'error',
            dict(payload, error=str(error),
                 error_type=type(error).__name__))

    def _operate(self, ctxt, uuid, operation, action, call, notify=True):
        """Run one operation on one instance.

        Takes the instance's lock, checks the state allows ``operation``,
        sends ``instance.<action>.*`` notifications when ``notify``, and
        stores the fields ``call(driver_record)`` returns (``spec``
        among them replaces the stored spec). A call that returns
        nothing (it changed nothing, or stored its changes itself) does
        not rewrite the record.
        """
        known = {'uuid': uuid}
        try:
            uuid = instance.validate_uuid(uuid)
            with self._lock(uuid):
                record = known = self._refresh_state(self._record(uuid))
                self._check_state(record, operation)
                if notify:
                    self.notifier.instance(ctxt, action, 'start', record)
                fields = call(self._driver_view(record))
                stored = self.store.get(uuid)
                if stored is None:
                    record = dict(record, state='deleted')
                else:
                    if fields:
                        stored = self.store.update(uuid, **fields)
                    record = self._refresh_state(stored, recover=True)
        except Exception as error:
            if notify:
                self._notify_error(ctxt, action, known, error)
            raise
        if notify:
            self.notifier.instance(ctxt, action, 'end', record)
        return record

    # -- API.md ------------------------------------------------------------

    @dispatch.api_method
    def create_instance(self, ctxt, spec):
        # The state is only "error" once a build of ours failed: a create
        # refused up front (a bad spec, InstanceExists) must not make a
        # listening controller think an existing instance broke.
        known = {'uuid': spec.get('uuid') if isinstance(spec, dict)
                 else None, 'state': None}
        try:
            return self._create(ctxt, spec, known)
        except Exception as error:
            self._notify_error(ctxt, 'create', known, error)
            raise

    @dispatch.api_method
    def render_instance(self, ctxt, spec):
        return self.driver.render(instance.validate_spec(spec, self.conf))

    @dispatch.api_method
    def delete_instance(self, ctxt, uuid):
        def delete(record):
            # Marked first, so that start-up recovery finishes a delete
            # the agent died in (computeagent.compute.recovery).
            self.store.set_task(record['uuid'], recovery.DELETING)
            try:
                self.driver.destroy(record)
            except Exception:
                self.store.set_task(record['uuid'], None)
                raise
            self.store.delete(record['uuid'])
            self._remove_instance_dir(record['uuid'])
        # Any state may be deleted; the record is gone once it is done.
        self._operate(ctxt, uuid, 'delete', 'delete', delete)
        return {'uuid': uuid, 'deleted': True}

    @dispatch.api_method
    def get_instance(self, ctxt, uuid):
        return self._record(instance.validate_uuid(uuid))

    @dispatch.api_method
    def list_instances(self, ctxt):
        return self.store.list()

    @dispatch.api_method
    def reboot_instance(self, ctxt, uuid, hard=False):
        hard = instance.validate_bool(hard, 'hard')
        return self._operate(
            ctxt, uuid, 'reboot_hard' if hard else 'reboot', 'reboot',
            lambda record: self.driver.reboot(record, hard=hard))

    @dispatch.api_method
    def stop_instance(self, ctxt, uuid, timeout=60):
        timeout = instance.validate_timeout(timeout)
        return self._operate(
            ctxt, uuid, 'stop', 'power_off',
            lambda record: self.driver.power_off(record, timeout=timeout))

    @dispatch.api_method
    def start_instance(self, ctxt, uuid):
        return self._operate(ctxt, uuid, 'start', 'power_on',
                             self.driver.power_on)

    @dispatch.api_method
    def pause_instance(self, ctxt, uuid):
        return self._operate(ctxt, uuid, 'pause', 'pause', self.driver.pause)

    @dispatch.api_method
    def unpause_instance(self, ctxt, uuid):
        return self._operate(ctxt, uuid, 'unpause', 'unpause',
                             self.driver.unpause)

    @dispatch.api_method
    def suspend_instance(self, ctxt, uuid):
        return self._operate(ctxt, uuid, 'suspend', 'suspend',
                             self.driver.suspend)

    @dispatch.api_method
    def resume_instance(self, ctxt, uuid):
        return self._operate(ctxt, uuid, 'resume', 'resume',
                             self.driver.resume)

    @dispatch.api_method
    def get_console_output(self, ctxt, uuid, tail_lines=None,
                           max_bytes=102400):
        tail_lines = instance.validate_tail_lines(tail_lines)
        max_bytes = instance.validate_max_bytes(max_bytes)
        record = self._driver_view(self._record(instance.validate_uuid(uuid)))
        return self.driver.get_console_output(record, tail_lines=tail_lines,
                                              max_bytes=max_bytes)

    @dispatch.api_method
    def get_host_status(self, ctxt):
        return self.host_status()

    # -- service hooks (not exposed over RPC) ------------------------------

    def host_status(self):
        host = self.driver.get_host_resources()
        records = self.store.list()
        return {'host': self.host,
                'driver': self.driver.name or self.conf.virt_driver,
                'hypervisor': host['hypervisor'],
                'vcpus': host['vcpus'],
                'vcpus_used': sum(r['vcpus'] for r in records),
                'memory_mb': host['memory_mb'],
                'memory_mb_used': sum(r['memory_mb'] for r in records),
                'disk_gb': host['disk_gb'],
                'disk_gb_free': host['disk_gb_free'],
                'instances': len(records),
                'version': version.version_string()}
