"""Live migration as the libvirt driver does it: :class:`MigrationOps`.

Peer to peer: the source's libvirtd talks to the destination's itself,
at the URI the destination gave (``[libvirt] live_migration_uri`` there),
and QEMU sends the memory to its data URI. The disks stay: the hosts
share the instances path.
"""

import threading

from oslo_log import log as logging

from computeagent import exception
from computeagent_libvirt import domain

LOG = logging.getLogger(__name__)


class MigrationOps(object):
    """live_migration_target and live_migrate.

    :param conf: the ConfigOpts (``host``, ``[libvirt] live_migration_*``)
    :param host: the computeagent_libvirt.host.Host of the guests
    """

    def __init__(self, conf, host):
        self.conf = conf
        self.host = host

    def live_migration_target(self):
        """Where a peer's libvirtd and QEMU reach this host."""
        libvirt_conf = self.conf.libvirt
        data_uri = libvirt_conf.live_migration_data_uri
        return {
            'uri': libvirt_conf.live_migration_uri.format(
                host=self.conf.host),
            'data_uri': data_uri.format(host=self.conf.host)
            if data_uri else ''}

    def live_migrate(self, instance, target):
        """Move the guest to ``target``; cancelled past the timeout."""
        dom = domain.get(self.host, instance.uuid)
        # libvirt's call returns only once the migration ends; a timer
        # cancels it if it does not end in time.
        timer = threading.Timer(self.conf.libvirt.live_migration_timeout,
                                self._abort, (dom,))
        timer.daemon = True
        timer.start()
        try:
            dom.migrate(target['uri'], target.get('data_uri'),
                        unsafe=self.conf.libvirt.live_migration_unsafe)
        finally:
            timer.cancel()

    @staticmethod
    def _abort(dom):
        LOG.warning('The live migration of %s takes too long; aborting it',
                    dom.uuid)
        try:
            dom.abort_job()
        except exception.DriverError as error:
            LOG.warning('Could not abort the migration of %(uuid)s: '
                        '%(error)s', {'uuid': dom.uuid, 'error': error})
