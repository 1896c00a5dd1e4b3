"""Delete and the power operations of docs/api.md.

Each runs through the :class:`computeagent.compute.operations.OperationRunner`
(the lock, the state check, notifications, storing what changed) and
returns the record once done.

A stop finishes, and a start (or a hard reboot of a stopped guest)
first finishes, the detaches a running guest had not released
(:func:`computeagent.compute.disk_operations.finish_detaches`): a guest
that is off holds no disk.
"""

from computeagent.compute import disk_operations
from computeagent.compute import reconciler
from computeagent.compute import states


class Lifecycle(object):
    """delete, reboot, stop, start, pause, unpause, suspend, resume.

    The uuid each method takes is checked by the runner; other arguments
    must have been validated by the caller (:mod:`computeagent.api.endpoint`).

    :param driver: the virt driver
    :param store: the InstanceStore
    :param runner: the OperationRunner
    """

    def __init__(self, driver, store, runner):
        self.driver = driver
        self.store = store
        self.runner = runner

    def delete(self, ctxt, uuid):
        """Delete in any state; the record is gone once it is done.

        The delete is marked (a durable task) before anything is removed,
        so that a delete interrupted by the agent stopping, or failing
        because the hypervisor is unreachable, is finished by
        reconciliation (:mod:`computeagent.compute.reconciler`), which
        then sends ``instance.delete.end``; meanwhile the record says
        ``error`` with the reason.

        :returns: ``{"uuid": uuid, "deleted": True}``
        """
        def delete(instance):
            self.store.set_task(instance.uuid, reconciler.DELETING)
            try:
                self.driver.destroy(instance)
            except Exception as error:
                self.store.update(
                    instance.uuid, state=states.ERROR,
                    error=reconciler.unfinished(reconciler.DELETING, error))
                raise
            self.store.delete(instance.uuid)
            self.store.remove_instance_dir(instance.uuid)
        # Not refreshed first: the delete is marked before the hypervisor
        # is asked anything, so one asked while it is unreachable is
        # finished once it is back.
        self.runner.run(ctxt, uuid, 'delete', 'delete', delete,
                        refresh=False)
        return {'uuid': uuid, 'deleted': True}

    def reboot(self, ctxt, uuid, hard=False):
        def reboot(instance):
            if instance.record.state == states.SHUTOFF:
                # A hard reboot of a stopped guest starts it.
                instance = disk_operations.finish_detaches(
                    self.driver, self.store, instance)
            self.driver.reboot(instance, hard=hard)
        return self.runner.run(
            ctxt, uuid, 'reboot_hard' if hard else 'reboot', 'reboot',
            reboot)

    def stop(self, ctxt, uuid, timeout=60):
        def stop(instance):
            self.driver.power_off(instance, timeout=timeout)
            disk_operations.finish_detaches(self.driver, self.store,
                                            instance)
        return self.runner.run(ctxt, uuid, 'stop', 'power_off', stop)

    def start(self, ctxt, uuid):
        def start(instance):
            # Stored before the start, which may fail: the files are gone.
            self.driver.power_on(disk_operations.finish_detaches(
                self.driver, self.store, instance))
        return self.runner.run(ctxt, uuid, 'start', 'power_on', start)

    def pause(self, ctxt, uuid):
        return self.runner.run(ctxt, uuid, 'pause', 'pause',
                               self.driver.pause)

    def unpause(self, ctxt, uuid):
        return self.runner.run(ctxt, uuid, 'unpause', 'unpause',
                               self.driver.unpause)

    def suspend(self, ctxt, uuid):
        return self.runner.run(ctxt, uuid, 'suspend', 'suspend',
                               self.driver.suspend)

    def resume(self, ctxt, uuid):
        return self.runner.run(ctxt, uuid, 'resume', 'resume',
                               self.driver.resume)
