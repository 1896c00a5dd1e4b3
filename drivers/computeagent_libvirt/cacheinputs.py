"""What every cache mode decision starts from, read once per driver.

:func:`computeagent_libvirt.design.disks.choose_cache` decides a disk's
cache mode from ``[disk] cachemodes`` and from whether the instances
path supports O_DIRECT; :class:`CacheInputs` holds both, for the spawn
and for the disk operations alike.
"""

import os
import threading

from oslo_log import log as logging

from computeagent import exception
from computeagent.objects import spec as spec_obj
from computeagent_libvirt.design import disks as disk_design
from computeagent_libvirt.storage import directio

LOG = logging.getLogger(__name__)


class CacheInputs(object):
    """``[disk] cachemodes`` parsed and the O_DIRECT probe's answer.

    :param conf: the ConfigOpts
    """

    def __init__(self, conf):
        self.conf = conf
        self._probe_lock = threading.Lock()
        self._direct_io = None
        self._probed = False

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
            # What a file disk naming no cache mode gets.
            mode, origin = disk_design.choose_cache(
                0, spec_obj.DiskSpec(spec_obj.DiskSource()), 'file',
                self.cachemodes(), self._direct_io)
            LOG.info('Instances path %(path)s %(does)s O_DIRECT: file '
                     'disks without a cache mode get %(mode)s (from '
                     '%(origin)s)',
                     {'path': path, 'mode': mode, 'origin': origin,
                      'does': 'supports' if self._direct_io
                      else 'does not support'})
            return self._direct_io
