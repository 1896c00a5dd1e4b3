"""The compute side of one host, put together from its parts.

:class:`ComputeManager` gives each part what it needs and answers the
requests that only read. The parts:

- ``locks`` (:mod:`computeagent.compute.locks`): per-instance locks and
  build slots, shared by the parts below;
- ``resources`` (:mod:`computeagent.compute.resources`): admission;
- ``runner`` (:mod:`computeagent.compute.operations`): one operation on
  one instance (lock, state check, notifications, storing the result);
- ``builder`` (:mod:`computeagent.compute.builder`): creates;
- ``lifecycle`` (:mod:`computeagent.compute.lifecycle`): delete and the
  power operations;
- ``disks`` (:mod:`computeagent.compute.disk_operations`): the disk
  operations;
- ``boot_order`` (:mod:`computeagent.compute.boot_order`): the order of
  the guest's next boot;
- ``power_sync`` (:mod:`computeagent.compute.power_sync`): power events
  and the sync of power states;
- ``reconciler`` (:mod:`computeagent.compute.reconciler`): periodic and
  requested passes that finish removals, sync states and remove what no
  record names;
- ``cache_sweep`` (:mod:`computeagent.compute.cache_sweep`): the periodic
  image-cache sweep;
- ``migration`` (:mod:`computeagent.compute.migration`): both ends of
  live migrations; its ``peers`` (how to ask another host's agent) are
  the service's to give;
- ``consoles`` (:mod:`computeagent.compute.consoles`): tokens of the
  interactive serial console.

The records are the store's (:mod:`computeagent.compute.store`);
start-up recovery is :mod:`computeagent.compute.recovery`. All
hypervisor work is the driver's. The RPC endpoint that serves docs/api.md
with these parts is :class:`computeagent.api.endpoint.ComputeEndpoint`;
nothing here knows of RPC.
"""

from computeagent.compute import boot_order
from computeagent.compute import builder
from computeagent.compute import cache_sweep
from computeagent.compute import consoles
from computeagent.compute import disk_operations
from computeagent.compute import lifecycle
from computeagent.compute import locks as locks_mod
from computeagent.compute import migration
from computeagent.compute import operations
from computeagent.compute import power_sync
from computeagent.compute import reconciler
from computeagent.compute import resources
from oslo_utils import units

from computeagent import version
from computeagent.virt import consolelog


class ComputeManager(object):
    """The compute parts of one host, over one driver and one store.

    :param conf: the ConfigOpts
    :param driver: the virt driver
    :param store: the InstanceStore
    :param notifier: the Notifier
    :param locks: the InstanceLocks the parts share; by default new ones
        with :func:`computeagent.compute.locks.build_slots` build slots
    """

    def __init__(self, conf, driver, store, notifier, locks=None):
        self.conf = conf
        self.driver = driver
        self.store = store
        self.notifier = notifier
        self.host = conf.host
        if locks is None:
            locks = locks_mod.InstanceLocks(locks_mod.build_slots(conf))
        self.locks = locks
        self.resources = resources.ResourceTracker(conf, driver, store)
        self.runner = operations.OperationRunner(driver, store, notifier,
                                                 locks)
        self.power_sync = power_sync.PowerSync(driver, store, notifier,
                                               locks, self.runner)
        self.reconciler = reconciler.Reconciler(
            conf, driver, store, notifier, locks, self.power_sync)
        self.builder = builder.Builder(conf, driver, store, notifier,
                                       self.resources, locks, self.runner,
                                       self.reconciler)
        self.lifecycle = lifecycle.Lifecycle(driver, store, self.runner)
        self.disks = disk_operations.DiskOperations(
            conf, driver, store, self.resources, self.runner)
        self.boot_order = boot_order.BootOrder(driver, store, self.runner)
        self.cache_sweep = cache_sweep.ImageCacheSweep(driver, store, locks)
        self.migration = migration.LiveMigration(
            conf, driver, store, notifier, self.resources, self.runner,
            locks)
        self.reconciler.arriving = self.migration.incoming
        self.consoles = consoles.SerialConsoles(conf, driver, self.runner)

    def get(self, uuid):
        """The record of one instance.

        :returns: the record of ``uuid``, docs/api.md's dict
        :raises: InstanceNotFound
        """
        return self.runner.get(uuid).to_dict()

    def list(self):
        """:returns: every record (docs/api.md's dicts), oldest first"""
        return [record.to_dict() for record in self.store.list()]

    def render(self, spec):
        """render_instance of an InstanceSpec: nothing is made."""
        return self.driver.render(spec)

    def console_output(self, uuid, tail_lines=None,
                       max_bytes=consolelog.DEFAULT_MAX_BYTES):
        """get_console_output: the end of the instance's serial log.

        :raises: InstanceNotFound
        """
        instance = self.runner.driver_view(self.runner.get(uuid))
        return self.driver.get_console_output(
            instance, tail_lines=tail_lines, max_bytes=max_bytes)

    def host_status(self):
        """get_host_status, and the periodic ``compute.host.status``.

        The driver's disk in bytes becomes 1.0's whole GiB (rounded
        down) and the exact MiB added beside them.
        """
        host = self.driver.get_host_resources()
        records = self.store.list()
        return {'host': self.host,
                'driver': self.driver.name or self.conf.virt_driver,
                'hypervisor': host['hypervisor'],
                'vcpus': host['vcpus'],
                'vcpus_used': sum(r.vcpus for r in records),
                'memory_mb': host['memory_mb'],
                'memory_mb_used': sum(r.memory_mb for r in records),
                'disk_gb': host['disk_bytes'] // units.Gi,
                'disk_gb_free': host['disk_bytes_free'] // units.Gi,
                'disk_mb': host['disk_bytes'] // units.Mi,
                'disk_mb_free': host['disk_bytes_free'] // units.Mi,
                'instances': len(records),
                'version': version.version_string(),
                'notifications_dropped': self.notifier.dropped}
