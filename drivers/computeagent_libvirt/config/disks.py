"""Configuration objects of the storage side: disks, controllers, addresses.

Fields in, XML out and back; no policy (see
:mod:`computeagent_libvirt.config.base`).
"""

from computeagent.objects import spec as spec_obj
from computeagent_libvirt.config import base

#: disk types whose <source> has a field here; another's is kept whole
_SOURCE_ATTRS = {'file': 'file', 'block': 'dev'}


class DriveAddress(base.ConfigObject):
    """<address type='drive'>: a slot on a SCSI/SATA/IDE controller."""

    root_name = 'address'

    def __init__(self, controller=0, bus=0, target=0, unit=0):
        super().__init__()
        self.controller = controller
        self.bus = bus
        self.target = target
        self.unit = unit

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update(base.attributes({
            'type': 'drive', 'controller': self.controller,
            'bus': self.bus, 'target': self.target, 'unit': self.unit}))
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        for name in ('controller', 'bus', 'target', 'unit'):
            setattr(self, name, base.parse_int(element.get(name)))


class PciAddress(base.ConfigObject):
    """<address type='pci'>: a PCI slot."""

    root_name = 'address'

    def __init__(self, domain=0, bus=0, slot=0, function=0):
        super().__init__()
        self.domain = domain
        self.bus = bus
        self.slot = slot
        self.function = function

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update({
            'type': 'pci',
            'domain': '0x%04x' % self.domain,
            'bus': '0x%02x' % self.bus,
            'slot': '0x%02x' % self.slot,
            'function': '0x%x' % self.function})
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        for name in ('domain', 'bus', 'slot', 'function'):
            setattr(self, name, int(element.get(name, '0'), 16))


#: address type -> class; an address of another type is kept whole
ADDRESSES = {'drive': DriveAddress, 'pci': PciAddress}


def _take_address(children):
    """The <address> of a known type among ``children``, parsed, or None."""
    element = children.take('address', lambda e: e.get('type') in ADDRESSES)
    if element is None:
        return None
    address = ADDRESSES[element.get('type')]()
    address.parse_dom(element)
    return address


class Controller(base.ConfigObject):
    """<controller>, e.g. type 'scsi' with model 'virtio-scsi'."""

    root_name = 'controller'

    def __init__(self, controller_type=None, index=0, model=None):
        super().__init__()
        self.type = controller_type
        self.index = index
        self.model = model

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update(base.attributes({
            'type': self.type, 'index': self.index, 'model': self.model}))
        self.format_extra(root)
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        self.type = element.get('type')
        # libvirt's default index is 0.
        self.index = int(element.get('index', '0'))
        self.model = element.get('model')
        self.extra = base.Children(element).rest()


def _backing_chain(top):
    """[(path, format)] of a <backingStore> chain, top first.

    :returns: None unless every image in it is a file with a format
    """
    chain = []
    node = top
    while node is not None and len(node):
        source = node.find('source')
        fmt = node.find('format')
        if (node.get('type') != 'file' or fmt is None
                or base.attr_of(source, 'file') is None):
            return None
        chain.append((source.get('file'), fmt.get('type')))
        node = node.find('backingStore')
    return chain


class Disk(base.ConfigObject):
    """<disk>: one disk or cdrom drive."""

    root_name = 'disk'

    def __init__(self):
        super().__init__()
        #: 'file' (<source file=...>) or 'block' (<source dev=...>)
        self.source_type = 'file'
        #: 'disk' or 'cdrom'
        self.device = 'disk'
        self.driver_name = 'qemu'
        #: image format of source_path: 'qcow2', 'raw'
        self.driver_format = None
        self.driver_cache = None
        self.driver_io = None
        self.driver_discard = None
        #: IOThread number (1-based) or None
        self.driver_iothread = None
        #: None renders no <source>: an empty cdrom drive
        self.source_path = None
        #: None leaves the chain to libvirt; a list of (path, format),
        #: top first, renders the whole chain ending in <backingStore/>
        self.backing = None
        self.target_dev = None
        self.target_bus = None
        #: dict with a subset of objects.spec.IOTUNE_KEYS, or None
        self.iotune = None
        self.readonly = False
        self.serial = None
        self.boot_order = None
        #: a DriveAddress/PciAddress or None (libvirt assigns one)
        self.address = None
        #: not rendered: whether the source is a temporary overlay that
        #: the driver commits or drops (kept for the instance record)
        self.snapshot = False

    @property
    def alias(self):
        """libvirt's name of the device in a running guest, or None.

        Read from the live XML's ``<alias>``, which stays in ``extra``.
        """
        for element in self.extra:
            if element.tag == 'alias':
                return element.get('name')
        return None

    def _driver_attrs(self):
        return base.attributes({
            'name': self.driver_name, 'type': self.driver_format,
            'cache': self.driver_cache, 'io': self.driver_io,
            'discard': self.driver_discard,
            'iothread': self.driver_iothread})

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update({'type': self.source_type,
                            'device': self.device})
        if self._driver_attrs():
            base.sub_element(root, 'driver', **self._driver_attrs())
        if self.source_path is not None:
            self._format_source(root, self.source_type, self.source_path)
            if self.backing is not None:
                self._format_backing(root)
        base.sub_element(root, 'target', dev=self.target_dev,
                         bus=self.target_bus)
        if self.iotune:
            iotune = base.sub_element(root, 'iotune')
            for key in spec_obj.IOTUNE_KEYS:
                if self.iotune.get(key) is not None:
                    base.sub_element(iotune, key, self.iotune[key])
        if self.readonly:
            base.sub_element(root, 'readonly')
        if self.serial is not None:
            base.sub_element(root, 'serial', self.serial)
        if self.boot_order is not None:
            base.sub_element(root, 'boot', order=self.boot_order)
        if self.address is not None:
            root.append(self.address.format_dom())
        self.format_extra(root)
        return root

    @staticmethod
    def _format_source(parent, source_type, path):
        base.sub_element(parent, 'source',
                         **{_SOURCE_ATTRS.get(source_type, 'file'): path})

    def _format_backing(self, root):
        parent = root
        for path, fmt in self.backing:
            # The chain is given by the storage layer, which inspected
            # every image in it; libvirt would otherwise probe the images
            # itself, trusting what their headers claim.
            parent = base.sub_element(parent, 'backingStore', type='file')
            base.sub_element(parent, 'format', type=fmt)
            self._format_source(parent, 'file', path)
        # An empty element says "self-contained": nothing more to probe.
        base.sub_element(parent, 'backingStore')

    def parse_dom(self, element):
        super().parse_dom(element)
        children = base.Children(element)
        kept = []
        self.source_type = element.get('type')
        self.device = element.get('device', 'disk')
        driver = children.take('driver')
        self.driver_name = base.attr_of(driver, 'name')
        self.driver_format = base.attr_of(driver, 'type')
        self.driver_cache = base.attr_of(driver, 'cache')
        self.driver_io = base.attr_of(driver, 'io')
        self.driver_discard = base.attr_of(driver, 'discard')
        self.driver_iothread = base.parse_int(base.attr_of(driver,
                                                           'iothread'))
        attr = _SOURCE_ATTRS.get(self.source_type)
        source = children.take('source', lambda e: e.get(attr) is not None)
        if source is not None:
            self.source_path = source.get(attr)
            top = children.take('backingStore')
            self.backing = _backing_chain(top) if top is not None else None
            if self.backing is None and top is not None:
                kept.append(top)
        target = children.take('target')
        self.target_dev = base.attr_of(target, 'dev')
        self.target_bus = base.attr_of(target, 'bus')
        iotune = children.take(
            'iotune',
            lambda e: all(c.tag in spec_obj.IOTUNE_KEYS for c in e))
        if iotune is not None:
            self.iotune = {c.tag: int(c.text) for c in iotune}
        self.readonly = children.take('readonly') is not None
        self.serial = base.text_of(children.take('serial'))
        self.boot_order = base.parse_int(
            base.attr_of(children.take('boot'), 'order'))
        self.address = _take_address(children)
        self.extra = kept + children.rest()
