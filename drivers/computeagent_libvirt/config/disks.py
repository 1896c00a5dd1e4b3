"""Configuration objects of the storage side: disks, controllers, addresses.

Fields in, XML out; no policy (see :mod:`computeagent_libvirt.config.guest`).
"""

from computeagent_libvirt.config import guest as guest_config

#: the <iotune> children, in the order libvirt formats them
IOTUNE_KEYS = ('total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec',
               'total_iops_sec', 'read_iops_sec', 'write_iops_sec')


class DriveAddress(guest_config.ConfigObject):
    """<address type='drive'>: a slot on a SCSI/SATA/IDE controller."""

    root_name = 'address'

    def __init__(self, controller=0, bus=0, target=0, unit=0):
        self.controller = controller
        self.bus = bus
        self.target = target
        self.unit = unit

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update(guest_config.attributes({
            'type': 'drive', 'controller': self.controller,
            'bus': self.bus, 'target': self.target, 'unit': self.unit}))
        return root


class PciAddress(guest_config.ConfigObject):
    """<address type='pci'>: a PCI slot."""

    root_name = 'address'

    def __init__(self, domain=0, bus=0, slot=0, function=0):
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


class Controller(guest_config.ConfigObject):
    """<controller>, e.g. type 'scsi' with model 'virtio-scsi'."""

    root_name = 'controller'

    def __init__(self, controller_type=None, index=0, model=None):
        self.type = controller_type
        self.index = index
        self.model = model

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update(guest_config.attributes({
            'type': self.type, 'index': self.index, 'model': self.model}))
        return root


class Disk(guest_config.ConfigObject):
    """<disk>: one disk or cdrom drive."""

    root_name = 'disk'

    def __init__(self):
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
        #: dict with a subset of IOTUNE_KEYS, or None
        self.iotune = None
        self.readonly = False
        self.serial = None
        self.boot_order = None
        #: a DriveAddress/PciAddress or None (libvirt assigns one)
        self.address = None
        #: not rendered: whether the source is a temporary overlay that
        #: the driver commits or drops (kept for the instance record)
        self.snapshot = False

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update({'type': self.source_type,
                            'device': self.device})
        guest_config.sub_element(
            root, 'driver', name=self.driver_name, type=self.driver_format,
            cache=self.driver_cache, io=self.driver_io,
            discard=self.driver_discard, iothread=self.driver_iothread)
        if self.source_path is not None:
            self._format_source(root, self.source_type, self.source_path)
            if self.backing is not None:
                self._format_backing(root)
        guest_config.sub_element(root, 'target', dev=self.target_dev,
                                 bus=self.target_bus)
        if self.iotune:
            iotune = guest_config.sub_element(root, 'iotune')
            for key in IOTUNE_KEYS:
                if self.iotune.get(key) is not None:
                    guest_config.sub_element(iotune, key, self.iotune[key])
        if self.readonly:
            guest_config.sub_element(root, 'readonly')
        if self.serial is not None:
            guest_config.sub_element(root, 'serial', self.serial)
        if self.boot_order is not None:
            guest_config.sub_element(root, 'boot', order=self.boot_order)
        if self.address is not None:
            root.append(self.address.format_dom())
        return root

    @staticmethod
    def _format_source(parent, source_type, path):
        attr = 'dev' if source_type == 'block' else 'file'
        guest_config.sub_element(parent, 'source', **{attr: path})

    def _format_backing(self, root):
        parent = root
        for path, fmt in self.backing:
            # The chain is given by the storage layer, which inspected
            # every image in it; libvirt would otherwise probe the images
            # itself, trusting what their headers claim.
            parent = guest_config.sub_element(parent, 'backingStore',
                                              type='file')
            guest_config.sub_element(parent, 'format', type=fmt)
            self._format_source(parent, 'file', path)
        # An empty element says "self-contained": nothing more to probe.
        guest_config.sub_element(parent, 'backingStore')
