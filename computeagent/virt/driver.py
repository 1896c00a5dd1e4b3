"""The virt driver contract.

A driver turns a validated instance spec (an
:class:`computeagent.objects.spec.InstanceSpec`, see
:mod:`computeagent.schema.instance`) into a running guest and operates on
it. The manager owns instance records
(:mod:`computeagent.compute.store`), validation, locking, state checks and
notifications; a driver owns everything on the hypervisor and the instance
directory's disks and logs. Drivers are loaded by entry point from the
``computeagent.virt_drivers`` namespace and never imported by name.

Every method taking ``instance`` receives the
:class:`computeagent.objects.stored.StoredInstance` the manager stores:
``instance.uuid``, ``instance.record`` (an
:class:`computeagent.objects.record.InstanceRecord`) and
``instance.spec`` (its InstanceSpec). All of them are immutable.
Drivers raise only the typed errors of :mod:`computeagent.exception`.
"""

import abc
import dataclasses
import typing

from computeagent import exception
from computeagent import plugins
from computeagent.virt import consolelog

NAMESPACE = 'computeagent.virt_drivers'


@dataclasses.dataclass(frozen=True)
class Placement(object):
    """What :meth:`ComputeDriver.spawn` made of a spec.

    The manager copies ``disks``, ``serial_ports``, ``parallel_ports``
    and ``console_log`` into the instance record and ``nics`` into the
    stored spec.

    :ivar disks: tuple of DiskRecord (computeagent.objects.record), in
        spec order
    :ivar serial_ports: tuple of SerialPortRecord, in spec order
    :ivar parallel_ports: tuple of SerialPortRecord of the parallel
        ports, in spec order
    :ivar console_log: path of the first logged serial port's log, or
        None
    :ivar nics: tuple of the spec's NicSpecs as built, each with its
        ``mac`` (one the driver chose where the spec gave none), in spec
        order
    """

    disks: tuple
    serial_ports: tuple
    console_log: typing.Optional[str]
    nics: tuple
    parallel_ports: tuple = ()


class ComputeDriver(metaclass=abc.ABCMeta):
    """Base class of every virt driver."""

    #: the name reported in get_host_status
    name = None

    def __init__(self, conf):
        """:param conf: the oslo.config ConfigOpts to read options from."""
        self.conf = conf
        self._event_callback = None
        self._resync_callback = None

    def init_host(self, host):
        """Connect to the hypervisor; called once before serving.

        :param host: this node's name ([DEFAULT] host)
        :raises: DriverError when the hypervisor cannot be reached
        """

    def cleanup_host(self):
        """Release hypervisor connections at shutdown."""

    def register_event_listener(self, callback):
        """Ask to be told of power-state changes as they happen.

        :param callback: ``callback(uuid, state)`` with a POWER_STATES
            value or NOSTATE; called from a driver thread.
        """
        self._event_callback = callback

    def emit_event(self, uuid, state):
        if self._event_callback is not None:
            self._event_callback(uuid, state)

    def register_resync_listener(self, callback):
        """Ask to be told when events may have been missed.

        A driver that lost its hypervisor connection (libvirtd restarted)
        calls it once reconnected: any guest may have changed meanwhile
        without an event.

        :param callback: ``callback()``; called from a driver thread,
            must not block
        """
        self._resync_callback = callback

    def emit_resync(self):
        if self._resync_callback is not None:
            self._resync_callback()

    @abc.abstractmethod
    def render(self, spec):
        """Plan an instance without creating anything (render_instance).

        :param spec: an InstanceSpec
        :returns: ``{"domain_xml": str, "disks": [{"target", "path",
            "format", "backing"}]}``
        :raises: ImageNotFound, ImageUnsafe, InvalidSpec
        """

    def prepare(self, spec, timings=None):
        """Do the slow part of a spawn that makes nothing of the instance.

        Fetching and verifying images may take minutes; the manager calls
        this before it takes the instance's lock for :meth:`spawn`, so a
        delete meanwhile need not wait for it. What it makes is shared
        and kept (a cached image), never the instance's own. :meth:`spawn`
        must work whether or not this was called. Not abstract: a driver
        with nothing slow to do keeps this default.

        :param spec: an InstanceSpec
        :param timings: a dict the driver may fill with seconds per step
        :raises: ImageNotFound, ImageUnsafe, DriverError
        """

    @abc.abstractmethod
    def spawn(self, spec, timings=None):
        """Build the instance's disks and guest and start it.

        On any failure everything this call made is removed before the
        error propagates: no domain, no files, no cache entry.

        :param spec: an InstanceSpec
        :param timings: a dict the driver may fill with seconds per step
        :returns: a :class:`Placement`
        :raises: ImageNotFound, ImageUnsafe, InvalidSpec, DriverError
        """

    @abc.abstractmethod
    def destroy(self, instance):
        """Remove the guest, its disks and its logs. Idempotent.

        :param instance: the StoredInstance (its spec may be None)
        :raises: DriverError
        """

    @abc.abstractmethod
    def cleanup_orphan(self, uuid, ignore=()):
        """Remove the guest and directory of a uuid no record names.

        Reconciliation (:mod:`computeagent.compute.reconciler`) calls it
        for every uuid the hypervisor has a guest of, or
        ``<instances_path>`` a directory of, that no record names: the
        agent died during a create before the record was written, or
        during a delete after the record file was removed, or a rollback
        failed and its record was lost. Only what is the agent's own is
        removed: a guest that this driver made (it carries the driver's
        mark, e.g. the libvirt driver's domain metadata, and names only
        files under the agent's instances path), then the directory if
        every file in it is one drivers make
        (:func:`computeagent.virt.layout.is_instance_file`) or is named
        in ``ignore``. A guest without the mark is never touched, and
        while it exists its directory is not either.

        :param uuid: a canonical uuid
        :param ignore: names of files in the directory that the caller
            accounts for (the store's temporary record files)
        :returns: None if the guest and directory were removed (or were
            not there), else a sentence saying what was found and left
        :raises: DriverError
        """

    @abc.abstractmethod
    def get_power_state(self, instance):
        """The guest's power state, asked of the hypervisor.

        :param instance: the StoredInstance
        :returns: one of POWER_STATES, or NOSTATE if the guest is gone
        """

    @abc.abstractmethod
    def list_power_states(self):
        """All guests this driver can see, in one hypervisor call.

        :returns: dict of uuid to a POWER_STATES value
        """

    @abc.abstractmethod
    def reboot(self, instance, hard=False):
        """Reboot: ACPI first unless ``hard``, then a reset."""

    @abc.abstractmethod
    def power_off(self, instance, timeout=60):
        """Shut down gracefully, forcing off after ``timeout`` seconds."""

    @abc.abstractmethod
    def power_on(self, instance):
        """Start a shut-off guest again."""

    @abc.abstractmethod
    def pause(self, instance):
        """Freeze the guest's vCPUs in memory."""

    @abc.abstractmethod
    def unpause(self, instance):
        """Thaw a paused guest."""

    @abc.abstractmethod
    def suspend(self, instance):
        """Save the guest's memory to disk and stop it (managed save)."""

    @abc.abstractmethod
    def resume(self, instance):
        """Restore a suspended guest from its managed save."""

    @abc.abstractmethod
    def get_console_output(self, instance, tail_lines=None,
                           max_bytes=consolelog.DEFAULT_MAX_BYTES):
        """The end of the serial log across its rotated files.

        :returns: ``{"output": str, "truncated": bool, "size": int}``
        """

    @abc.abstractmethod
    def attach_disk(self, instance, disk):
        """Add a disk (hot-plug when running).

        :param instance: the StoredInstance, without the disk
        :param disk: a DiskSpec with its target assigned
        :returns: the new DiskRecord
        """

    @abc.abstractmethod
    def detach_disk(self, instance, target):
        """Remove the disk at ``target`` (hot-unplug when running).

        A running guest must release the device; the driver waits a
        bounded time for it. Its files are removed only once the guest
        no longer has it. Called again for a disk whose release it did
        not see, it finishes the detach if the guest released it
        meanwhile or no longer runs (asking a running guest again).

        :param instance: the StoredInstance, still with the disk
        :returns: True once the disk is gone (guest, definition, files);
            False if the running guest still holds it: its files are
            kept, and the guest's next start does not have it
        :raises: DriverError if the hypervisor refused (nothing changed)
        """

    @abc.abstractmethod
    def change_media(self, instance, target, image=None):
        """Insert ``image`` in the cdrom at ``target``; None ejects.

        :returns: the cdrom's new DiskRecord
        """

    @abc.abstractmethod
    def commit_disk(self, instance, target):
        """Merge a snapshot disk's temporary overlay into its disk file."""

    @abc.abstractmethod
    def set_boot_order(self, instance):
        """Make the guest's next boot follow the spec's boot order.

        The persistent definition takes the ``boot_index`` of every disk
        and nic of ``instance.spec`` (None: not bootable), all at once;
        the running guest keeps the order it booted with until it next
        starts from its definition. Idempotent: asked again with the
        same spec, it changes nothing.

        :param instance: the StoredInstance with the new order in its
            spec (and its record's disks)
        :raises: DriverError if the hypervisor refused (nothing changed)
        """

    @abc.abstractmethod
    def get_host_resources(self):
        """What the host has, for get_host_status and admission.

        Disk is the filesystem of ``[DEFAULT] instances_path``, in bytes
        (:func:`computeagent.virt.diskspace.host_disk`): admission counts
        it to the MiB, and a small filesystem must not round to nothing.

        :returns: ``{"hypervisor": str, "vcpus": int, "memory_mb": int,
            "disk_bytes": int, "disk_bytes_free": int}``
        :raises: DriverError
        """

    def cleanup_image_cache(self, records):
        """Remove cached images that no instance has used for a while.

        The manager calls it periodically while no build runs. Not
        abstract: a driver without a cache keeps this default.

        :param records: every InstanceRecord of the agent; what their
            guests use is kept
        :returns: sorted list of what was removed (cache keys)
        """
        return []

    def live_migration_target(self):
        """Where another host's guest comes to this one, for its driver.

        Asked on the destination host and handed to the source's
        :meth:`live_migrate`. Not abstract: a driver that cannot receive
        a guest keeps this default.

        :returns: a dict of strings, the driver's to read
        :raises: DriverError if this host cannot receive a guest
        """
        raise exception.DriverError(
            reason='the %s driver cannot migrate guests' % self.name)

    def live_migrate(self, instance, target):
        """Move the running (or paused) guest to another host, live.

        The instance's files are on storage both hosts share; only the
        guest moves. On success it runs there and is gone from here; on
        failure it is still here, as it was. Not abstract: a driver that
        cannot migrate keeps this default.

        :param instance: the StoredInstance
        :param target: what the destination's :meth:`live_migration_target`
            returned
        :raises: DriverError, the guest still here
        """
        raise exception.DriverError(
            reason='the %s driver cannot migrate guests' % self.name)

    def get_serial_console(self, instance, port):
        """Where a console joins serial port ``port`` of the running guest.

        The caller has checked that the port exists, is a ``pty``,
        ``unix`` or ``tcp`` port, and that the guest runs or is paused.
        Not abstract: a driver without serial chardevs keeps this
        default.

        :param instance: the StoredInstance
        :param port: the port's index
        :returns: a :class:`computeagent.objects.console.ConsoleTarget`
        :raises: DriverError if the hypervisor cannot tell
        """
        raise exception.DriverError(
            reason='the %s driver has no serial consoles' % self.name)

    def disk_sizes_mb(self, spec):
        """The virtual size of disks whose size comes from their image.

        Admission (:mod:`computeagent.compute.resources`) counts a disk without
        ``size_mb`` at its image's virtual size, which only the driver
        can tell. Nothing may be fetched or created to answer: a size
        not known yet is left out (and counts 0). Not abstract: a driver
        that cannot tell keeps this default.

        :param spec: an InstanceSpec
        :returns: dict of target to MiB (rounded up)
        """
        return {}


def load_driver(conf):
    """Load the driver named by ``[DEFAULT] virt_driver``.

    :raises: DriverLoadError naming the installed drivers
    """
    return plugins.load(NAMESPACE, conf.virt_driver, 'virt driver',
                        invoke_args=(conf,))
