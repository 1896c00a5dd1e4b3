"""The libvirt virt driver: orchestration of storage, designer and host.

``spawn`` creates the disks (:mod:`computeagent_libvirt.storage.instance`),
designs the guest (:mod:`computeagent_libvirt.design.guest`), defines it
persistently and starts it (:mod:`computeagent_libvirt.host`,
:mod:`computeagent_libvirt.domain`);
a failure at any step removes the domain and every file made. Power
operations are in :mod:`computeagent_libvirt.guest_ops` and disk operations in
:mod:`computeagent_libvirt.disk_ops`.

libvirt is the source of truth for the guest; what the driver needs
beyond it comes from the record the manager passes (its ``spec`` and
``disks``).

Snapshot disks: the guest writes to a temporary overlay. Each fresh start
(spawn, power_on, a hard reboot of a stopped guest) gives it an empty
one; power_off drops it; commit_disk merges it into the disk file.
Instance records show the disk file itself with ``snapshot: true``.
"""

import functools
import os
import threading
from xml.etree import ElementTree

from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import timeutils
from oslo_utils import units

from computeagent import exception
from computeagent.virt import consolelog
from computeagent.virt import driver as virt_driver
from computeagent.virt import layout
from computeagent_libvirt.config import guest as guest_config
from computeagent_libvirt.design import disks as disk_design
from computeagent_libvirt.design import guest as designer
from computeagent_libvirt import disk_ops
from computeagent_libvirt import domain
from computeagent_libvirt import events
from computeagent_libvirt import guest_ops
from computeagent_libvirt import host as host_mod
from computeagent_libvirt.storage import directio
from computeagent_libvirt.storage import imagecache
from computeagent_libvirt.storage import instance as storage_mod

LOG = logging.getLogger(__name__)


def _typed_errors(method):
    """Let only the API's typed errors out of a driver method."""
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


def _with_typed_errors(cls):
    # Every method of the contract, so none can be forgotten.
    names = set(virt_driver.ComputeDriver.__abstractmethods__)
    for name in names | {'init_host'}:
        setattr(cls, name, _typed_errors(getattr(cls, name)))
    return cls


@_with_typed_errors
class LibvirtDriver(guest_ops.GuestOps, disk_ops.DiskOps,
                    virt_driver.ComputeDriver):
    """Instances as libvirt domains (``[libvirt] connection_uri``)."""

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
        self.host = host_mod.Host(conf.libvirt.connection_uri,
                                  lifecycle_handler=self._on_lifecycle,
                                  reboot_handler=self.waiter.note_reboot)
        self._probe_lock = threading.Lock()
        self._direct_io = None
        self._probed = False

    # -- set-up --------------------------------------------------------

    def init_host(self, host):
        """Check the options, probe O_DIRECT, connect and start events.

        Also removes what fetches of a killed process left in ``_base``.

        :raises: DriverError for a malformed ``[disk] cachemodes``, an
            unusable instances path or an unreachable libvirt
        """
        self.cachemodes()
        self.direct_io()
        self.host.connect()
        # The image source is not needed for that, so it is not loaded.
        imagecache.ImageCache(self.conf, None).remove_interrupted_fetches()

    def cleanup_host(self):
        self.host.close()

    def cachemodes(self):
        """``[disk] cachemodes`` parsed.

        :raises: DriverError naming the malformed entry
        """
        return disk_design.load_cachemodes(self.conf)

    def direct_io(self):
        """Whether the instances path supports O_DIRECT (probed once).

        Creates ``[DEFAULT] instances_path`` if it does not exist.

        :raises: DriverError if the path cannot be created or written
        """
        with self._probe_lock:
            if self._probed:
                return self._direct_io
            path = self.conf.instances_path
            try:
                os.makedirs(path, mode=0o755, exist_ok=True)
                self._direct_io = directio.probe_o_direct(path)
            except OSError as e:
                raise exception.DriverError(
                    reason='cannot use instances path %s: %s' % (path, e))
            self._probed = True
            mode, origin = disk_design.choose_cache(
                0, {'cache': None}, 'file', self.cachemodes(),
                self._direct_io)
            LOG.info('Instances path %(path)s %(does)s O_DIRECT: file '
                     'disks without a cache mode get %(mode)s (from '
                     '%(origin)s)',
                     {'path': path, 'mode': mode, 'origin': origin,
                      'does': 'supports' if self._direct_io
                      else 'does not support'})
            return self._direct_io

    def _on_lifecycle(self, uuid, state):
        # On libvirt's event thread: both calls only queue or notify.
        self.waiter.notify(uuid)
        self.emit_event(uuid, state)

    def _domain(self, record):
        """The record's domain; DriverError if libvirt has none."""
        return domain.get(self.host, record['uuid'])

    def _design(self, spec, entries):
        plan = {entry['target']: entry for entry in entries}
        return designer.design_guest(spec, plan, self.conf,
                                     host_caps={'arch': self.host.arch()},
                                     direct_io=self.direct_io())

    # -- the contract ----------------------------------------------------

    def render(self, spec):
        """The domain XML and disks ``spec`` would get; nothing is made.

        Each disk's ``backing`` is the path of the image right under the
        one the guest opens, or None: for a snapshot disk (whose ``path``
        is its temporary overlay) the disk file, for a qcow2 disk from an
        image the cached base.
        """
        entries = self.storage.plan(spec)
        guest = self._design(spec, entries)
        return {'domain_xml': guest.to_xml(),
                'disks': [{'target': e['target'], 'path': e['path'],
                           'format': e['format'],
                           'backing': (e['backing'][0][0] if e['backing']
                                       else None)}
                          for e in entries]}

    def prepare(self, spec, timings=None):
        """Fetch and verify every image of ``spec`` into the cache."""
        timings = timings if timings is not None else {}
        with timeutils.StopWatch() as watch:
            self.storage.fetch_images(spec)
        timings['images'] = watch.elapsed()

    def spawn(self, spec, timings=None):
        """Create the disks, define the domain persistently and start it.

        On any failure, the domain (if defined) is destroyed and
        undefined and the instance directory removed.
        """
        timings = timings if timings is not None else {}
        uuid = spec['uuid']
        if domain.find(self.host, uuid) is not None:
            # Never redefine (nor, on failure, remove) a domain this call
            # did not make.
            raise exception.DriverError(
                reason='libvirt already has a domain with uuid %s' % uuid)
        dom = None
        try:
            with timeutils.StopWatch() as watch:
                entries = self.storage.create_disks(spec)
            timings['disks'] = watch.elapsed()
            with timeutils.StopWatch() as watch:
                guest = self._design(spec, entries)
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
        by_target = {entry['target']: entry for entry in entries}
        return {'disks': [disk_ops.disk_record(d, by_target[d['target']])
                          for d in designer.describe_disks(guest)],
                'serial_ports': designer.describe_serial_ports(guest),
                'console_log': designer.console_log(guest),
                'nics': designer.describe_nics(guest)}

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

    def destroy(self, record):
        """Destroy and undefine the domain, remove the instance's files.

        Idempotent: a missing domain or directory is not an error.

        :raises: DriverError, and nothing is removed, if libvirt's domain
            of that uuid is not one this driver defines (another name, or
            without the agent's metadata): a guest the agent cannot
            account for is never destroyed
        """
        uuid = record['uuid']
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
        root = ElementTree.fromstring(dom.xml(inactive=True))
        if (root.findtext('name') != designer.domain_name(dom.uuid)
                or root.find('metadata/{%s}instance'
                             % guest_config.METADATA_NS) is None):
            return False
        top = os.path.abspath(self.conf.instances_path) + os.sep
        for element in root.iter():
            if element.tag not in ('source', 'log'):
                continue
            for name in ('file', 'path'):
                value = element.get(name)
                if value and not value.startswith(top):
                    return False
        return True

    def cleanup_orphan(self, uuid, ignore=()):
        """Remove the directory of an unrecorded uuid, if all of it is ours.

        Nothing is removed while libvirt has a domain of that uuid,
        whoever defined it.
        """
        directory = self.storage.instance_dir(uuid)  # refuses non-uuids
        if domain.find(self.host, uuid) is not None:
            return 'libvirt has a domain of that uuid'
        reason = layout.why_keep(directory, ignore)
        if reason:
            return reason
        self.storage.delete_instance_files(uuid)
        return None

    def get_power_state(self, record):
        dom = domain.find(self.host, record['uuid'])
        if dom is None:
            return virt_driver.NOSTATE
        return dom.power_state()

    def cleanup_image_cache(self, records):
        """Remove the bases no guest has named for [image] unused_base_min_age.

        What is in use is read from each instance's domain (its
        definition and, when running, its live XML, which name every
        base as a backing file or a cdrom's medium), not from specs: an
        image replaced in the source since a guest was built has a new
        cache key, while the guest still runs on the old base.

        An instance without a domain is either waiting to be built (the
        manager calls this while no build runs, so none is between
        fetching its images and defining its domain) or lost its domain
        behind the agent's back; its disk files, if any, still name
        their bases, and those are kept. If a disk file cannot be read,
        nothing is removed this time.
        """
        in_use = set()
        cache = self.storage.cache
        for record in records:
            dom = domain.find(self.host, record['uuid'])
            if dom is not None:
                for inactive in (True, False):
                    in_use |= _bases_in(dom.xml(inactive=inactive), cache)
                continue
            try:
                in_use |= self.storage.bases_named_by_files(
                    record['uuid'], record['disks'])
            except exception.DriverError as error:
                LOG.warning('Image cache: cannot tell which images '
                            'instance %(uuid)s uses, which has no domain: '
                            '%(error)s; nothing removed this time',
                            {'uuid': record['uuid'], 'error': error})
                return []
        self.storage.cache.mark_used(in_use)
        return self.storage.cache.remove_unused(
            in_use, min_age=self.conf.image.unused_base_min_age)

    def list_power_states(self):
        """Every domain libvirt has, ours or not (the manager filters)."""
        return self.host.power_states()

    def get_console_output(self, record, tail_lines=None, max_bytes=102400):
        """The end of serial port 0's log; empty if nothing logs it."""
        path = record.get('console_log')
        if not path:
            return {'output': '', 'truncated': False, 'size': 0}
        return consolelog.read_tail(path, tail_lines, max_bytes)

    def get_host_resources(self):
        resources = self.host.resources()
        try:
            stat = os.statvfs(self.conf.instances_path)
        except OSError as e:
            raise exception.DriverError(
                reason='cannot read the instances path: %s' % e)
        resources.update(
            disk_gb=stat.f_blocks * stat.f_frsize // units.Gi,
            disk_gb_free=stat.f_bavail * stat.f_frsize // units.Gi)
        return resources

    @_typed_errors
    def disk_sizes_mb(self, spec):
        """Image-sized disks whose image size is known without a fetch.

        That is an image in the cache, or one the source holds in place
        (inspected where it lies); nothing is fetched for this, so the
        other disks are left out (see :mod:`computeagent.compute.resources`).
        """
        sizes = {}
        for disk in spec['disks']:
            if disk['device'] == 'cdrom' or 'image' not in disk['source']:
                continue
            try:
                image = self.storage.cache.peek(disk['source']['image'])
            except exception.ComputeAgentException:
                continue  # the create reports what is wrong with it
            if image.virtual_size is not None:
                sizes[disk['target']] = -(-image.virtual_size // units.Mi)
        return sizes


def _bases_in(xml, cache):
    """The names in ``cache`` of the bases that ``xml`` names.

    :param xml: domain XML; every ``<source file=...>`` counts, backing
        chains and cdrom media included
    """
    names = (cache.key_at(source.get('file') or '')
             for source in ElementTree.fromstring(xml).iter('source'))
    return {name for name in names if name is not None}
