"""The boot order of a domain's XML: read it, and change only it.

A domain's boot order is its devices' ``<boot order='N'/>`` (never an
``<os><boot dev=...>``, which libvirt refuses beside them). Changing it
must leave the rest of the definition as libvirt has it, so the XML is
edited in place rather than parsed into the configuration objects of
:mod:`computeagent_libvirt.config.guest` and formatted again (they keep
only the fields the agent designs, e.g. of ``<os>``). No policy: which
device boots when is the caller's.
"""

from xml.etree import ElementTree

DISK = 'disk'
NIC = 'nic'


def _device_key(device):
    """('disk', target) or ('nic', mac) of a <devices> child, or None."""
    if device.tag == 'disk':
        target = device.find('target')
        return (DISK, target.get('dev')) if target is not None else None
    if device.tag == 'interface':
        mac = device.find('mac')
        return (NIC, mac.get('address').lower()) if mac is not None else None
    return None


def boot_orders(xml):
    """The boot order of each disk and nic of a domain.

    :param xml: the domain XML
    :returns: dict of ('disk', target) and ('nic', mac) to the order, or
        None for a device that does not boot
    """
    orders = {}
    for device in ElementTree.fromstring(xml).iterfind('devices/*'):
        key = _device_key(device)
        if key is not None:
            boot = device.find('boot')
            orders[key] = (int(boot.get('order')) if boot is not None
                           else None)
    return orders


def with_boot_orders(xml, orders):
    """The domain XML with these devices' boot orders and nothing else new.

    Every disk and nic the domain has takes its order from ``orders``
    (absent or None: no ``<boot>``); any ``<os><boot dev=...>`` goes.

    :param xml: the domain XML (a persistent definition)
    :param orders: dict of ('disk', target) and ('nic', mac) to an order
        or None
    :returns: the new domain XML
    """
    root = ElementTree.fromstring(xml)
    os_elem = root.find('os')
    if os_elem is not None:
        for boot in os_elem.findall('boot'):
            os_elem.remove(boot)
    for device in root.iterfind('devices/*'):
        key = _device_key(device)
        if key is None:
            continue
        old = device.find('boot')
        if old is not None:
            device.remove(old)
        order = orders.get(key)
        if order is not None:
            boot = ElementTree.Element('boot', order=str(order))
            # libvirt's own place for it: before the device's address.
            children = list(device)
            at = next((i for i, child in enumerate(children)
                       if child.tag in ('alias', 'address')), len(children))
            device.insert(at, boot)
    return ElementTree.tostring(root, encoding='unicode')
