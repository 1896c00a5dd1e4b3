"""The libvirt virt driver: orchestration of storage, designer and host.

``spawn`` creates the disks (:mod:`computeagent_libvirt.storage.instance`),
designs the guest (:mod:`computeagent_libvirt.design.guest`), defines it
persistently and starts it (:mod:`computeagent_libvirt.host`,
:mod:`computeagent_libvirt.domain`);
a failure at any step removes the domain and every file made. Power
operations are in :mod:`computeagent_libvirt.power_ops`, disk operations in
:mod:`computeagent_libvirt.disk_ops` and the image cache's in
:mod:`computeagent_libvirt.cache_ops`: the driver hands those on, and lets
only typed errors out of every method of the contract (:func:`typed_errors`).

libvirt is the source of truth for the guest; what the driver needs
beyond it comes from the stored instance the manager passes (its
``spec`` and its record's ``disks``).

Snapshot disks: the guest writes to a temporary overlay. Each fresh start
(spawn, power_on, a hard reboot of a stopped guest) gives it an empty
one; power_off drops it; commit_disk merges it into the disk file.
Instance records show the disk file itself with ``snapshot: true``.
"""

import functools
import os

from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import timeutils

from computeagent import exception
from computeagent.virt import consolelog
from computeagent.virt import diskspace
from computeagent.virt import driver as virt_driver
from computeagent.virt import layout
from computeagent.virt import power
from computeagent_libvirt import boot_ops
from computeagent_libvirt import cache_ops
from computeagent_libvirt import cacheinputs
from computeagent_libvirt import console_ops
from computeagent_libvirt.design import chardevs as chardev_design
from computeagent_libvirt.design import guest as designer
from computeagent_libvirt import disk_ops
from computeagent_libvirt import domain
from computeagent_libvirt import domainevents
from computeagent_libvirt import events
from computeagent_libvirt import host as host_mod
from computeagent_libvirt import migration_ops
from computeagent_libvirt import node as node_mod
from computeagent_libvirt import power_ops
from computeagent_libvirt.storage import imagecache
from computeagent_libvirt.storage import instance as storage_mod

LOG = logging.getLogger(__name__)


def typed_errors(method):
    """Let only the API's typed errors out of a method of the contract.

    Every method of :class:`~computeagent.virt.driver.ComputeDriver` that
    :class:`LibvirtDriver` implements carries this decorator: an error
    of the layers below that is not one of :mod:`computeagent.exception`
    (a bug, an OSError nobody expected) is logged with its traceback and
    leaves as a DriverError naming it.
    """
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except exception.ComputeAgentException:
            raise
        except Exception as e:
            LOG.exception('%s failed', method.__name__)
            raise exception.DriverError(reason='%s: %s'
                                        % (type(e).__name__, e))
    return wrapper


class LibvirtDriver(virt_driver.ComputeDriver):
    """Instances as libvirt domains (``[libvirt] connection_uri``).

    Made of parts, each given what it uses: ``power`` (a
    power_ops.PowerOps), ``disks`` (a disk_ops.DiskOps) and ``images`` (a
    cache_ops.CacheOps) do the operations on a guest's power, on its
    disks and on the image cache, ``boot`` (a boot_ops.BootOps) sets its
    boot order; the driver hands them on.
    """

    name = 'libvirt'

    def __init__(self, conf, image_source=None):
        """Nothing is opened until init_host or the first request.

        :param conf: the ConfigOpts
        :param image_source: an ImageSource; default the one ``[image]
            source`` names, loaded on first use
        """
        super().__init__(conf)
        self.storage = storage_mod.InstanceStorage(conf, image_source)
        self.waiter = events.StateWaiter()
        self.host = host_mod.Host(
            conf.libvirt.connection_uri,
            events=domainevents.DomainEvents(
                lifecycle_handler=self._on_lifecycle,
                reboot_handler=self.waiter.note_reboot,
                device_removed_handler=self.waiter.note_device_removed),
            reconnect_handler=self._on_reconnect,
            reconnect_timeout=conf.libvirt.reconnect_timeout)
        self.node = node_mod.Node(self.host)
        self.cache_inputs = cacheinputs.CacheInputs(conf)
        self.power = power_ops.PowerOps(conf, self.host, self.storage,
                                        self.waiter)
        self.disks = disk_ops.DiskOps(conf, self.host, self.storage,
                                      self.waiter, self.cache_inputs)
        self.images = cache_ops.CacheOps(conf, self.host, self.storage)
        self.migration = migration_ops.MigrationOps(conf, self.host)
        self.boot = boot_ops.BootOps(self.host)

    # -- set-up --------------------------------------------------------

    @typed_errors
    def init_host(self, host):
        """Check the options, probe O_DIRECT, connect and start events.

        Also removes what fetches of a killed process left in ``_base``.

        :raises: DriverError for a malformed ``[disk] cachemodes``, an
            unusable instances path or an unreachable libvirt
        """
        self.cache_inputs.cachemodes()
        self.cache_inputs.direct_io()
        self.host.connect()
        # The image source is not needed for that, so it is not loaded.
        imagecache.ImageCache(self.conf, None).remove_interrupted_fetches()

    @typed_errors
    def live_migration_target(self):
        return self.migration.live_migration_target()

    @typed_errors
    def live_migrate(self, instance, target):
        return self.migration.live_migrate(instance, target)

    @typed_errors
    def cleanup_host(self):
        self.host.close()

    def _on_reconnect(self):
        # Lifecycle events of the outage are lost: have every guest looked
        # at again. Only queues, as the handler must not block.
        LOG.info('Connected to libvirt again; resyncing every instance')
        self.emit_resync()

    def _on_lifecycle(self, uuid, state):
        # On libvirt's event thread: both calls only queue or notify.
        self.waiter.notify(uuid)
        self.emit_event(uuid, state)

    def _design(self, spec, planned_disks):
        plan = {planned.target: planned for planned in planned_disks}
        return designer.design_guest(
            spec, plan, self.conf, host_caps={'arch': self.node.arch()},
            direct_io=self.cache_inputs.direct_io())

    # -- the contract ----------------------------------------------------

    @typed_errors
    def render(self, spec):
        """The domain XML and disks ``spec`` would get; nothing is made.

        Each disk's ``backing`` is the path of the image right under the
        one the guest opens, or None: for a snapshot disk (whose ``path``
        is its temporary overlay) the disk file, for a qcow2 disk from an
        image the cached base.
        """
        planned_disks = self.storage.plan(spec)
        guest = self._design(spec, planned_disks)
        return {'domain_xml': guest.to_xml(),
                'disks': [{'target': p.target, 'path': p.path,
                           'format': p.format,
                           'backing': p.backing[0][0] if p.backing else None}
                          for p in planned_disks]}

    @typed_errors
    def prepare(self, spec, timings=None):
        """Fetch and verify every image of ``spec`` into the cache."""
        timings = timings if timings is not None else {}
        with timeutils.StopWatch() as watch:
            self.storage.fetch_images(spec)
        timings['images'] = watch.elapsed()

    @typed_errors
    def spawn(self, spec, timings=None):
        """Create the disks, define the domain persistently and start it.

        On any failure, the domain (if defined) is destroyed and
        undefined and the instance directory removed.
        """
        timings = timings if timings is not None else {}
        uuid = spec.uuid
        if domain.find(self.host, uuid) is not None:
            # Never redefine (nor, on failure, remove) a domain this call
            # did not make.
            raise exception.DriverError(
                reason='libvirt already has a domain with uuid %s' % uuid)
        dom = None
        try:
            with timeutils.StopWatch() as watch:
                planned_disks = self.storage.create_disks(spec)
                self.storage.make_fifos(chardev_design.pipe_fifos(
                    spec, self.storage.instance_dir(uuid)))
            timings['disks'] = watch.elapsed()
            with timeutils.StopWatch() as watch:
                guest = self._design(spec, planned_disks)
                xml = guest.to_xml()
            timings['design'] = watch.elapsed()
            with timeutils.StopWatch() as watch:
                dom = domain.define(self.host, xml)
                dom.start()
            timings['start'] = watch.elapsed()
        except Exception:
            with excutils.save_and_reraise_exception():
                self._remove(uuid, dom)
        LOG.info('Started domain %(name)s of instance %(uuid)s',
                 {'name': designer.domain_name(uuid), 'uuid': uuid})
        by_target = {planned.target: planned for planned in planned_disks}
        return virt_driver.Placement(
            disks=tuple(disk_ops.disk_record(d, by_target[d.target])
                        for d in designer.describe_disks(guest)),
            serial_ports=designer.describe_serial_ports(guest),
            parallel_ports=designer.describe_parallel_ports(guest),
            console_log=designer.console_log(guest),
            nics=designer.describe_nics(guest, spec))

    def _remove(self, uuid, dom):
        """Undo a spawn: the domain this call defined, and every file."""
        if dom is not None:
            try:
                dom.destroy()
                dom.undefine()
            except exception.DriverError as e:
                LOG.error('Could not remove the domain of %(uuid)s: '
                          '%(error)s', {'uuid': uuid, 'error': e})
        try:
            self.storage.delete_instance_files(uuid)
        except exception.ComputeAgentException as e:
            LOG.error('Could not remove the files of %(uuid)s: %(error)s',
                      {'uuid': uuid, 'error': e})

    @typed_errors
    def destroy(self, instance):
        """Destroy and undefine the domain, remove the instance's files.

        Idempotent: a missing domain or directory is not an error.

        :raises: DriverError, and nothing is removed, if libvirt's domain
            of that uuid is not one this driver defines (another name, or
            without the agent's metadata): a guest the agent cannot
            account for is never destroyed
        """
        uuid = instance.uuid
        dom = domain.find(self.host, uuid)
        if dom is not None:
            if not self._made_here(dom):
                raise exception.DriverError(
                    reason='the domain with uuid %s was not defined by '
                    'this agent; it is left alone' % uuid)
            dom.destroy()
            try:
                dom.undefine()
            except exception.DriverError:
                if domain.find(self.host, uuid) is not None:
                    raise
            LOG.info('Removed domain %s', designer.domain_name(uuid))
        self.storage.delete_instance_files(uuid)
        self.waiter.forget(uuid)

    def _made_here(self, dom):
        """Whether a domain is one :meth:`spawn` of this agent defines.

        Its name is derived from the uuid, it carries the agent's element
        in its metadata, and every file it names (disks, their backing
        files, logs, sockets) is under this agent's instances path: an
        agent with another instances path on the same libvirtd (the
        functional tests run several) makes domains just like it.
        """
        guest = dom.guest(inactive=True)
        if (guest.name != designer.domain_name(dom.uuid)
                or guest.instance_metadata() is None):
            return False
        top = os.path.abspath(self.conf.instances_path) + os.sep
        return all(path.startswith(top) for path in guest.named_files())

    @typed_errors
    def cleanup_orphan(self, uuid, ignore=()):
        """Remove the domain and directory of an unrecorded uuid if ours.

        A domain :meth:`_made_here` goes first; any other domain of that
        uuid keeps its directory too.
        """
        directory = self.storage.instance_dir(uuid)  # refuses non-uuids
        dom = domain.find(self.host, uuid)
        ours = False
        if dom is not None:
            try:
                ours = self._made_here(dom)
            except exception.DriverError:
                # Its owner may have undefined it since it was found: a
                # domain that is gone leaves only the directory to judge.
                if domain.find(self.host, uuid) is not None:
                    raise
                dom = None
        if dom is not None:
            if not ours:
                return ('libvirt has a domain of that uuid that this agent '
                        'did not define')
            dom.destroy()
            dom.undefine()
            LOG.warning('Removed domain %s, which no record named',
                        designer.domain_name(uuid))
        reason = layout.why_keep(directory, ignore)
        if reason:
            return reason
        self.storage.delete_instance_files(uuid)
        return None

    @typed_errors
    def get_power_state(self, instance):
        dom = domain.find(self.host, instance.uuid)
        if dom is None:
            return power.NOSTATE
        return dom.power_state()

    @typed_errors
    def list_power_states(self):
        """Every domain libvirt has, ours or not (the manager filters)."""
        return self.node.power_states()

    @typed_errors
    def get_console_output(self, instance, tail_lines=None,
                           max_bytes=consolelog.DEFAULT_MAX_BYTES):
        """The end of serial port 0's log; empty if nothing logs it."""
        path = instance.record.console_log
        if not path:
            return {'output': '', 'truncated': False, 'size': 0}
        return consolelog.read_tail(path, tail_lines, max_bytes)

    @typed_errors
    def get_serial_console(self, instance, port):
        return console_ops.serial_console(self.host, instance.uuid, port)

    @typed_errors
    def get_host_resources(self):
        resources = self.node.resources()
        resources.update(diskspace.host_disk(self.conf.instances_path))
        return resources

    # -- handed on to the parts ------------------------------------------

    @typed_errors
    def cleanup_image_cache(self, records):
        return self.images.cleanup_image_cache(records)

    @typed_errors
    def disk_sizes_mb(self, spec):
        return self.images.disk_sizes_mb(spec)

    @typed_errors
    def reboot(self, instance, hard=False):
        return self.power.reboot(instance, hard)

    @typed_errors
    def power_off(self, instance, timeout=60):
        return self.power.power_off(instance, timeout)

    @typed_errors
    def power_on(self, instance):
        return self.power.power_on(instance)

    @typed_errors
    def pause(self, instance):
        return self.power.pause(instance)

    @typed_errors
    def unpause(self, instance):
        return self.power.unpause(instance)

    @typed_errors
    def suspend(self, instance):
        return self.power.suspend(instance)

    @typed_errors
    def resume(self, instance):
        return self.power.resume(instance)

    @typed_errors
    def attach_disk(self, instance, disk):
        return self.disks.attach_disk(instance, disk)

    @typed_errors
    def detach_disk(self, instance, target):
        return self.disks.detach_disk(instance, target)

    @typed_errors
    def change_media(self, instance, target, image=None):
        return self.disks.change_media(instance, target, image)

    @typed_errors
    def commit_disk(self, instance, target):
        return self.disks.commit_disk(instance, target)

    @typed_errors
    def set_boot_order(self, instance):
        return self.boot.set_boot_order(instance)
