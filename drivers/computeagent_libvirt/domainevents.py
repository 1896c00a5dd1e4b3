"""libvirt's domain events: what they mean and who hears of them.

:class:`computeagent_libvirt.host.Host` registers the callbacks of a
:class:`DomainEvents` on every connection it opens. libvirt calls them on
its event thread, which must never block: each callback only says what
the event means (a lifecycle event is a power state, :func:`event_state`)
and hands it to the driver's handler, whose errors are logged here, never
raised into libvirt's loop.
"""

from oslo_log import log as logging

from computeagent.virt import power
from computeagent_libvirt import host as host_mod

LOG = logging.getLogger(__name__)

EVENTS = host_mod.Events

# Lifecycle event -> power state; events not listed change nothing
# (DEFINED, and SHUTDOWN, which a STOPPED follows).
_EVENT_STATES = {
    EVENTS.STARTED: power.RUNNING,
    EVENTS.RESUMED: power.RUNNING,
    EVENTS.SUSPENDED: power.PAUSED,
    EVENTS.PMSUSPENDED: power.SUSPENDED,
    EVENTS.CRASHED: power.CRASHED,
    EVENTS.UNDEFINED: power.NOSTATE,
}
_STOPPED_STATES = {
    EVENTS.STOPPED_SAVED: power.SUSPENDED,
    EVENTS.STOPPED_CRASHED: power.CRASHED,
}


def event_state(event, detail):
    """The power state a lifecycle event announces.

    :param event: libvirt's lifecycle event (one of :class:`host.Events`)
    :param detail: libvirt's detail of that event
    :returns: (known, state): known is False for events that do not
        change the power state; state may be NOSTATE (undefined)
    """
    if event == EVENTS.STOPPED:
        return True, _STOPPED_STATES.get(detail, power.SHUTOFF)
    if event in _EVENT_STATES:
        return True, _EVENT_STATES[event]
    return False, None


class DomainEvents(object):
    """The driver's handlers of libvirt's domain events.

    Every handler is called on libvirt's event thread and must not block.

    :param lifecycle_handler: ``handler(uuid, state)`` for every lifecycle
        event that changes the power state
    :param reboot_handler: ``handler(uuid)`` when a guest reboots
    :param device_removed_handler: ``handler(uuid, alias)`` when a running
        guest's device (by its libvirt alias, e.g. ``virtio-disk1``) is
        gone after a detach
    """

    def __init__(self, lifecycle_handler=None, reboot_handler=None,
                 device_removed_handler=None):
        self._lifecycle_handler = lifecycle_handler
        self._reboot_handler = reboot_handler
        self._device_removed_handler = device_removed_handler

    def lifecycle(self, conn, dom, event, detail, opaque):
        """libvirt's lifecycle callback (``VIR_DOMAIN_EVENT_ID_LIFECYCLE``)."""
        known, state = event_state(event, detail)
        if known:
            _hand_over('Lifecycle', self._lifecycle_handler, dom, state)

    def reboot(self, conn, dom, opaque):
        """libvirt's reboot callback (``VIR_DOMAIN_EVENT_ID_REBOOT``)."""
        _hand_over('Reboot', self._reboot_handler, dom)

    def device_removed(self, conn, dom, alias, opaque):
        """libvirt's ``VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED`` callback."""
        _hand_over('Device removed', self._device_removed_handler, dom, alias)


def _hand_over(what, handler, dom, *args):
    """``handler(uuid, *args)``, if there is one; its errors logged.

    :param what: the kind of event, for the log
    :param dom: the libvirt.virDomain the event is about
    """
    if handler is None:
        return
    try:
        handler(dom.UUIDString(), *args)
    except Exception:
        # Raised into libvirt's event loop it would be lost, and the
        # next event must still be handed over.
        LOG.exception('%s event handler failed', what)
