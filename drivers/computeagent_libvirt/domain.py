"""One libvirt domain's operations, by name, with no policy.

Every call goes through :meth:`computeagent_libvirt.host.Host.call`, so it is
retried once after libvirtd restarts and its errors are DriverErrors with
libvirt's message. This module does not import libvirt: the flags come
from :class:`computeagent_libvirt.host.Flags`.
"""

from computeagent import exception
from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt import host as host_mod

FLAGS = host_mod.Flags


def find(host, uuid):
    """The domain with this UUID, or None if libvirt has none.

    :param host: a computeagent_libvirt.host.Host
    :returns: Domain or None
    :raises: DriverError for any failure but "no such domain"
    """
    dom = host.call('looking up %s' % uuid,
                    lambda conn: conn.lookupByUUIDString(uuid),
                    missing_ok=True)
    return Domain(host, uuid, dom) if dom is not None else None


def get(host, uuid):
    """Like :func:`find`, but a missing domain is an error.

    :raises: DriverError with libvirt's "Domain not found" message
    """
    dom = host.call('looking up %s' % uuid,
                    lambda conn: conn.lookupByUUIDString(uuid))
    return Domain(host, uuid, dom)


def define(host, xml):
    """Define (or redefine) a persistent domain from XML.

    :returns: Domain
    :raises: DriverError when libvirt refuses the XML
    """
    dom = host.call('defining a domain', lambda conn: conn.defineXML(xml))
    return Domain(host, dom.UUIDString(), dom)


class Domain(object):
    """A domain of one Host, looked up again after a reconnection."""

    def __init__(self, host, uuid, dom):
        self.host = host
        self.uuid = uuid
        self._dom = dom
        self._conn = dom.connect()

    def _call(self, name, *args):
        def run(conn):
            # A virDomain belongs to the connection it came from; after a
            # reconnection the domain must be looked up on the new one.
            if conn is not self._conn:
                self._dom = conn.lookupByUUIDString(self.uuid)
                self._conn = conn
            return getattr(self._dom, name)(*args)
        return self.host.call('%s of %s' % (name, self.uuid), run)

    # -- state ---------------------------------------------------------

    def power_state(self):
        """:returns: one of computeagent.virt.power.POWER_STATES"""
        state, reason = self._call('state')
        saved = (state == FLAGS.SHUTOFF
                 and bool(self._call('hasManagedSaveImage', 0)))
        return host_mod.power_state(state, reason, saved)

    def is_active(self):
        return bool(self._call('isActive'))

    def id(self):
        """The running domain's id (new at each start), or -1."""
        return self._call('ID')

    def xml(self, inactive=False):
        """The live domain XML, or the persistent one if ``inactive``."""
        return self._call('XMLDesc', FLAGS.XML_INACTIVE if inactive else 0)

    def guest(self, inactive=False):
        """The domain XML read: every read of it goes through this.

        :param inactive: the persistent definition, not the live XML
        :returns: a config.guest.Guest, to read (never to define again)
        """
        return guest_config.Guest.parse_str(self.xml(inactive))

    def has_managed_save(self):
        return bool(self._call('hasManagedSaveImage', 0))

    # -- life cycle ------------------------------------------------------

    def start(self):
        """Start the domain; a managed save image is restored."""
        self._call('createWithFlags', 0)

    def destroy(self):
        """Force the domain off; a domain already off is not an error."""
        if not self.is_active():
            return
        try:
            self._call('destroy')
        except exception.DriverError:
            if self.is_active():
                raise

    def undefine(self):
        """Remove the definition, its managed save image and NVRAM."""
        flags = FLAGS.UNDEFINE
        # Only asked for when there is an NVRAM: drivers without UEFI
        # support (the test driver) refuse the flag.
        if self.guest(inactive=True).os_nvram is not None:
            flags |= FLAGS.UNDEFINE_NVRAM
        self._call('undefineFlags', flags)

    def migrate(self, dest_uri, data_uri=None, unsafe=False):
        """Migrate live to the libvirtd at ``dest_uri``, peer to peer.

        Returns once the guest runs there (and is gone from here); on
        failure libvirt leaves it running here.

        :param data_uri: where the migration data goes (QEMU's
            connection), default libvirt's choice
        :param unsafe: migrate although libvirt does not see the disks as
            shared storage (a local directory shared by other means)
        """
        params = {}
        if data_uri:
            params[FLAGS.MIGRATE_PARAM_URI] = data_uri
        flags = FLAGS.MIGRATE_LIVE | (FLAGS.MIGRATE_UNSAFE if unsafe else 0)
        self._call('migrateToURI3', dest_uri, params, flags)

    def abort_job(self):
        """Cancel the domain's job (a migration); it stays here."""
        self._call('abortJob')

    def shutdown(self):
        """Ask the guest to power off (ACPI power button)."""
        self._call('shutdown')

    def reboot_acpi(self):
        """Ask the guest to reboot (ACPI power button); returns at once."""
        self._call('reboot', FLAGS.REBOOT_ACPI)

    def reset(self):
        """Reset the virtual machine, like its reset button."""
        self._call('reset', 0)

    def pause(self):
        self._call('suspend')

    def unpause(self):
        self._call('resume')

    def managed_save(self):
        """Save the guest's memory to libvirt's managed image and stop.

        The guest runs again when restored, even if it was paused.
        """
        self._call('managedSave', FLAGS.SAVE_RUNNING)

    def remove_managed_save(self):
        self._call('managedSaveRemove', 0)

    def pm_wakeup(self):
        """Wake a guest from its own suspend-to-RAM."""
        self._call('pMWakeup', 0)

    # -- devices ---------------------------------------------------------

    @staticmethod
    def _affect(live):
        return FLAGS.AFFECT_CONFIG | (FLAGS.AFFECT_LIVE if live else 0)

    def attach_device(self, xml, live):
        """Add a device to the definition, and to the guest if ``live``."""
        self._call('attachDeviceFlags', xml, self._affect(live))

    def detach_device(self, xml, live, config=True):
        """Remove a device from the definition, and the guest if ``live``.

        From a running guest the removal may be only requested: libvirt
        waits a few seconds for the guest to release the device, and
        returns without error even if it did not; the device then stays
        in the live XML until the guest releases it (libvirt's
        device-removed event says when) or stops.

        :param config: also from the persistent definition; False asks
            the running guest only (the definition no longer has it)
        """
        flags = FLAGS.AFFECT_LIVE if live else 0
        if config:
            flags |= FLAGS.AFFECT_CONFIG
        self._call('detachDeviceFlags', xml, flags)

    def update_device(self, xml, live):
        """Change a device (a cdrom's medium), even if the tray is locked."""
        self._call('updateDeviceFlags', xml,
                   self._affect(live) | FLAGS.MODIFY_FORCE)

    def add_iothread(self, number, live):
        """Add IOThread ``number`` to the definition (and the guest)."""
        # One call per side: libvirt's test driver refuses both at once.
        self._call('addIOThread', number, FLAGS.AFFECT_CONFIG)
        if live:
            self._call('addIOThread', number, FLAGS.AFFECT_LIVE)

    def del_iothread(self, number, live):
        if live:
            self._call('delIOThread', number, FLAGS.AFFECT_LIVE)
        self._call('delIOThread', number, FLAGS.AFFECT_CONFIG)

    # -- block jobs --------------------------------------------------------

    def commit_top(self, target):
        """Start merging the disk's top image into the image below it.

        Active: the top is the image the running guest writes to.
        Shallow: into the next image down, not into the bottom of the
        chain, which is the shared base image (seen with libvirt 9.0).
        """
        self._call('blockCommit', target, None, None, 0,
                   FLAGS.COMMIT_ACTIVE_SHALLOW)

    def block_job(self, target):
        """:returns: (cur, end) of the disk's block job, or None"""
        info = self._call('blockJobInfo', target, 0)
        if not info:
            return None
        return info['cur'], info['end']

    def pivot(self, target):
        """End a ready active commit: the guest moves to the image below."""
        self._call('blockJobAbort', target, FLAGS.JOB_PIVOT)

    def abort_block_job(self, target):
        self._call('blockJobAbort', target, 0)

    def snapshot_disks(self, xml):
        """An external disk-only snapshot libvirt keeps no record of.

        libvirt creates the overlay files ``xml`` names and moves the
        guest onto them, every disk at once or none.
        """
        self._call('snapshotCreateXML', xml, FLAGS.SNAPSHOT_DISKS)
