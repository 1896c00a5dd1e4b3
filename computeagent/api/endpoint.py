"""The RPC endpoint: every method of docs/api.md.

:class:`ComputeEndpoint` is what the RPC server dispatches to. Each
method is an :func:`computeagent.api.dispatch.api_method` (exposed,
its arguments bound strictly, its errors docs/api.md's), checks the plain
arguments it was sent and hands the request to the part of the
:class:`computeagent.compute.manager.ComputeManager` that serves it.
What needs an instance's record to be checked (a create's spec, an
attached disk, the uuid of an operation, whose failure is notified) is
checked by that part.
"""

import oslo_messaging

from computeagent.api import dispatch
from computeagent import exception
from computeagent.schema import instance

RPC_API_VERSION = '1.3'


class ComputeEndpoint(object):
    """Serves docs/api.md on one host.

    :param manager: the ComputeManager whose parts serve the requests
    """

    target = oslo_messaging.Target(version=RPC_API_VERSION)

    def __init__(self, manager):
        self.manager = manager

    @dispatch.api_method
    def create_instance(self, ctxt, spec):
        return self.manager.builder.create(ctxt, spec)

    @dispatch.api_method
    def render_instance(self, ctxt, spec):
        return self.manager.render(
            instance.validate_spec(spec, self.manager.conf))

    @dispatch.api_method
    def delete_instance(self, ctxt, uuid):
        return self.manager.lifecycle.delete(ctxt, uuid)

    @dispatch.api_method
    def get_instance(self, ctxt, uuid):
        return self.manager.get(instance.validate_uuid(uuid))

    @dispatch.api_method
    def list_instances(self, ctxt):
        return self.manager.list()

    @dispatch.api_method
    def reboot_instance(self, ctxt, uuid, hard=False):
        hard = instance.validate_bool(hard, 'hard')
        return self.manager.lifecycle.reboot(ctxt, uuid, hard=hard)

    @dispatch.api_method
    def stop_instance(self, ctxt, uuid, timeout=60):
        timeout = instance.validate_timeout(timeout)
        return self.manager.lifecycle.stop(ctxt, uuid, timeout=timeout)

    @dispatch.api_method
    def start_instance(self, ctxt, uuid):
        return self.manager.lifecycle.start(ctxt, uuid)

    @dispatch.api_method
    def pause_instance(self, ctxt, uuid):
        return self.manager.lifecycle.pause(ctxt, uuid)

    @dispatch.api_method
    def unpause_instance(self, ctxt, uuid):
        return self.manager.lifecycle.unpause(ctxt, uuid)

    @dispatch.api_method
    def suspend_instance(self, ctxt, uuid):
        return self.manager.lifecycle.suspend(ctxt, uuid)

    @dispatch.api_method
    def resume_instance(self, ctxt, uuid):
        return self.manager.lifecycle.resume(ctxt, uuid)

    @dispatch.api_method
    def get_console_output(self, ctxt, uuid, tail_lines=None,
                           max_bytes=instance.DEFAULT_CONSOLE_BYTES):
        tail_lines = instance.validate_tail_lines(tail_lines)
        max_bytes = instance.validate_max_bytes(max_bytes)
        return self.manager.console_output(instance.validate_uuid(uuid),
                                           tail_lines=tail_lines,
                                           max_bytes=max_bytes)

    @dispatch.api_method
    def attach_disk(self, ctxt, uuid, disk):
        return self.manager.disks.attach(ctxt, uuid, disk)

    @dispatch.api_method
    def detach_disk(self, ctxt, uuid, target):
        target = instance.validate_target(target)
        return self.manager.disks.detach(ctxt, uuid, target)

    @dispatch.api_method
    def change_media(self, ctxt, uuid, target, image=None):
        target = instance.validate_target(target)
        if image is not None:
            image = instance.validate_image_ref(image)
        return self.manager.disks.change_media(ctxt, uuid, target, image)

    @dispatch.api_method
    def commit_disk(self, ctxt, uuid, target=None):
        # No target (since 1.3): every snapshot disk, the monitor's
        # "commit all".
        if target is not None:
            target = instance.validate_target(target)
        return self.manager.disks.commit(ctxt, uuid, target)

    @dispatch.api_method
    def set_boot_order(self, ctxt, uuid, boot_order):
        # Since 1.3. The list is checked against the instance's devices,
        # inside the operation.
        return self.manager.boot_order.set(ctxt, uuid, boot_order)

    @dispatch.api_method
    def migrate_instance(self, ctxt, uuid, dest_host, live=True):
        if instance.validate_bool(live, 'live') is not True:
            raise exception.InvalidSpec(
                field='live', reason='only live migration is supported')
        return self.manager.migration.migrate(ctxt, uuid, dest_host)

    # -- since 1.3: the interactive serial console ----------------------

    @dispatch.api_method
    def get_serial_console(self, ctxt, uuid, port=0):
        return self.manager.consoles.get(ctxt, uuid, port)

    @dispatch.api_method
    def get_host_status(self, ctxt):
        return self.manager.host_status()
