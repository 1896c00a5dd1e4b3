"""The boot order of the libvirt driver's guests: :class:`BootOps`.

set_boot_order is the QEMU monitor's ``boot_set`` for the guest's next
boot: the persistent definition is defined again with every disk's and
nic's ``<boot order>`` from the spec, in one ``defineXML``, so libvirt
has the old order or the new one, never a mix. A running guest keeps
the QEMU process it booted, and with it its order, until it is started
again from the definition (a stop and start, or a hard reboot:
:mod:`computeagent_libvirt.power_ops` restarts the process when the
definition boots otherwise).
"""

from oslo_log import log as logging

from computeagent.virt import bootorder as virt_bootorder

from computeagent_libvirt.config import bootorder
from computeagent_libvirt import domain

LOG = logging.getLogger(__name__)


def spec_orders(spec):
    """The boot order a spec gives each disk and nic.

    :returns: dict of ('disk', target) and ('nic', mac) to the order or
        None, as :func:`bootorder.with_boot_orders` takes it
    """
    indexes = virt_bootorder.boot_indexes(spec.boot_order, spec.disks,
                                          spec.nics)
    orders = {(bootorder.DISK, d.target): index
              for d, index in zip(spec.disks, indexes.disks)}
    orders.update(((bootorder.NIC, n.mac), index)
                  for n, index in zip(spec.nics, indexes.nics)
                  if n.mac is not None)
    return orders


def next_boot_differs(dom):
    """Whether the definition boots the running guest's devices otherwise.

    Only the devices both have count: a disk whose detach the guest has
    not released is in the live domain alone.

    :param dom: a computeagent_libvirt.domain.Domain that runs
    """
    live = bootorder.boot_orders(dom.xml())
    defined = bootorder.boot_orders(dom.xml(inactive=True))
    return any(live[key] != defined[key] for key in live if key in defined)


class BootOps(object):
    """set_boot_order.

    :param host: the computeagent_libvirt.host.Host of the guests
    """

    def __init__(self, host):
        self.host = host

    def set_boot_order(self, instance):
        """Define the guest again with the boot order of its spec.

        :raises: DriverError if libvirt has no such domain or refuses the
            definition (which then stays as it was)
        """
        dom = domain.get(self.host, instance.uuid)
        xml = dom.xml(inactive=True)
        orders = spec_orders(instance.spec)
        domain.define(self.host, bootorder.with_boot_orders(xml, orders))
        booting = sorted((order, name) for (_kind, name), order
                         in orders.items() if order is not None)
        LOG.info('Instance %(uuid)s boots next from %(devices)s',
                 {'uuid': instance.uuid,
                  'devices': ', '.join(name for _order, name in booting)})
