"""Power operations of the libvirt driver: :class:`PowerOps`.

The driver gives it the libvirt host, the instance storage and the
state waiter it shares with the disk operations. Waits (graceful
shutdown, soft reboot) re-check the guest after every lifecycle event
and at least every ``[libvirt] power_poll_interval``.

Snapshot disks: every fresh start (power_on, a hard reboot of a stopped
guest) first replaces the temporary overlay with an empty one, so
changes of the previous run are gone even if the guest stopped by
itself; power_off drops the overlay. Restoring a managed save (resume)
keeps it: the saved memory belongs with those disk contents.
"""

from oslo_log import log as logging

from computeagent import exception
from computeagent.virt import power
from computeagent_libvirt import boot_ops
from computeagent_libvirt.design import chardevs as chardev_design
from computeagent_libvirt import disk_ops
from computeagent_libvirt import domain

LOG = logging.getLogger(__name__)


class PowerOps(object):
    """reboot, power_off, power_on, pause, unpause, suspend, resume.

    :param conf: the ConfigOpts (``[libvirt]`` timeouts and poll interval)
    :param host: the computeagent_libvirt.host.Host of the guests
    :param storage: the driver's storage.instance.InstanceStorage
    :param waiter: the driver's events.StateWaiter, which libvirt's
        events wake
    """

    def __init__(self, conf, host, storage, waiter):
        self.conf = conf
        self.host = host
        self.storage = storage
        self.waiter = waiter

    def _domain(self, instance):
        """The instance's domain; DriverError if libvirt has none."""
        return domain.get(self.host, instance.uuid)

    def _wait(self, predicate, timeout):
        return self.waiter.wait_for(predicate, timeout,
                                    self.conf.libvirt.power_poll_interval)

    def _start_fresh(self, instance, dom):
        """Boot a stopped guest, with fresh snapshot overlays.

        :raises: DriverError if the guest is running already
        """
        if dom.is_active():
            raise exception.DriverError(
                reason='domain %s is already running' % instance.uuid)
        if not dom.has_managed_save():
            for planned in disk_ops.snapshot_disks(self.storage, instance):
                self.storage.discard_snapshot_overlay(planned)
                self.storage.ensure_snapshot_overlay(planned)
        if instance.spec is not None:
            # Made at create; made again should someone have removed
            # them, or QEMU would refuse to start.
            self.storage.make_fifos(chardev_design.pipe_fifos(
                instance.spec, self.storage.instance_dir(instance.uuid)))
        dom.start()

    def _drop_overlays(self, instance):
        for planned in disk_ops.snapshot_disks(self.storage, instance):
            self.storage.discard_snapshot_overlay(planned)

    def reboot(self, instance, hard=False):
        """Reboot; a soft reboot falls back to a hard one.

        Soft: the ACPI power button with libvirt's reboot, then up to
        ``[libvirt] soft_reboot_timeout`` seconds for a reboot event (or a
        new domain id); a guest that ignores ACPI is then reset. Hard: a
        reset of a running or paused guest (resumed after), a fresh start
        of a stopped one (a managed save image is discarded). A running
        guest whose definition boots in another order than it did
        (set_boot_order) is forced off and started again instead of
        reset, so the new order applies.
        """
        dom = self._domain(instance)
        if not hard and dom.power_state() == power.RUNNING:
            if self._soft_reboot(dom):
                return
            LOG.warning('Instance %(uuid)s did not reboot within %(sec)d s '
                        'of the ACPI request; resetting it',
                        {'uuid': instance.uuid,
                         'sec': self.conf.libvirt.soft_reboot_timeout})
        self._hard_reboot(instance, dom)

    def _soft_reboot(self, dom):
        """:returns: True if the guest rebooted and is running"""
        seen = self.waiter.reboots(dom.uuid)
        old_id = dom.id()
        dom.reboot_acpi()

        def rebooted():
            # The reboot event, or a new id (libvirt restarted the domain
            # process); an id of -1 means the guest powered off instead,
            # which the hard reboot then starts again.
            return (self.waiter.reboots(dom.uuid) != seen
                    or dom.id() != old_id)
        done = self._wait(rebooted, self.conf.libvirt.soft_reboot_timeout)
        return done and dom.is_active()

    def _hard_reboot(self, instance, dom):
        if dom.is_active() and boot_ops.next_boot_differs(dom):
            # A reset keeps the QEMU process and the boot order it was
            # started with; set_boot_order's order is for the next boot,
            # as the monitor's boot_set is for the next reset. The
            # process is started again from the definition, the snapshot
            # overlays kept, as a reset keeps them.
            LOG.info('Instance %s boots in another order now: starting '
                     'its guest again rather than resetting it',
                     instance.uuid)
            dom.destroy()
            dom.start()
            return
        if dom.is_active():
            paused = dom.power_state() == power.PAUSED
            dom.reset()
            if paused:
                dom.unpause()
            return
        if dom.has_managed_save():
            dom.remove_managed_save()
        self._start_fresh(instance, dom)

    def power_off(self, instance, timeout=60):
        """ACPI shutdown, waiting up to ``timeout`` s, then force off.

        A paused guest cannot answer ACPI and is forced off at once. A
        managed save image is discarded: the next start boots afresh.
        """
        dom = self._domain(instance)
        if (timeout > 0 and dom.is_active()
                and dom.power_state() == power.RUNNING):
            try:
                dom.shutdown()
            except exception.DriverError as e:
                LOG.warning('ACPI shutdown of %(uuid)s refused: %(error)s',
                            {'uuid': instance.uuid, 'error': e})
            else:
                if not self._wait(lambda: not dom.is_active(), timeout):
                    LOG.warning('Instance %(uuid)s did not shut down '
                                'within %(sec)s s; forcing it off',
                                {'uuid': instance.uuid, 'sec': timeout})
        dom.destroy()
        if dom.has_managed_save():
            dom.remove_managed_save()
        self._drop_overlays(instance)

    def power_on(self, instance):
        """Start a stopped guest (fresh snapshot overlays)."""
        self._start_fresh(instance, self._domain(instance))

    def pause(self, instance):
        self._domain(instance).pause()

    def unpause(self, instance):
        self._domain(instance).unpause()

    def suspend(self, instance):
        """Managed save: memory to disk, the domain stops."""
        self._domain(instance).managed_save()

    def resume(self, instance):
        """Restore the managed save (or wake a guest suspended to RAM).

        :raises: DriverError if there is no saved state to resume from
        """
        dom = self._domain(instance)
        if dom.is_active():
            # Active and suspended: the guest put itself to sleep (S3).
            dom.pm_wakeup()
            return
        if not dom.has_managed_save():
            raise exception.DriverError(
                reason='domain %s has no saved state to resume from'
                % instance.uuid)
        dom.start()
