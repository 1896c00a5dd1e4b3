"""libvirt guest configuration objects: a whole domain, XML out and back.

:class:`Guest` holds the fields of a ``<domain>`` and its list of
devices; none of them decides anything (which bus, which cache mode,
which boot order): that policy lives in
:mod:`computeagent_libvirt.design.guest`. The device classes are in
:mod:`computeagent_libvirt.config.devices` and
:mod:`computeagent_libvirt.config.disks`; what every class shares, in
:mod:`computeagent_libvirt.config.base`.

A domain read from libvirt (``Guest.parse_str(dom.xml())``) keeps what
it has no fields for: devices of other kinds as
:class:`~computeagent_libvirt.config.base.Unparsed`, other top-level
elements in ``extra``.
"""

from xml.etree import ElementTree

from computeagent_libvirt.config import base
from computeagent_libvirt.config import devices as device_config
from computeagent_libvirt.config import disks as disk_config

#: XML namespace of the agent's own element in the domain's <metadata>.
METADATA_NS = 'http://computeagent.org/xmlns/libvirt/instance/1.0'
#: Prefix used for that namespace in the rendered XML.
METADATA_PREFIX = 'computeagent'

#: <devices> children with a class; any other is kept Unparsed
DEVICES = {cls.root_name: cls for cls in (
    disk_config.Disk, disk_config.Controller, device_config.Serial,
    device_config.Parallel, device_config.Console,
    device_config.Video, device_config.Graphics,
    device_config.Interface, device_config.MemBalloon)}


def _parse(cls, element):
    obj = cls()
    obj.parse_dom(element)
    return obj


class InstanceMetadata(base.ConfigObject):
    """The agent's element inside the domain's <metadata>.

    The libvirt domain name is derived from the uuid, so the display name
    (free text chosen by the user) is kept here where nothing parses it.
    """

    # A literal prefix, not ElementTree.register_namespace(), because that
    # registry is process-wide state.
    root_name = METADATA_PREFIX + ':instance'
    #: the tag as ElementTree reads it back
    parsed_name = '{%s}instance' % METADATA_NS

    def __init__(self, display_name=None):
        super().__init__()
        self.display_name = display_name

    def format_dom(self):
        root = ElementTree.Element(
            self.root_name, {'xmlns:' + METADATA_PREFIX: METADATA_NS})
        if self.display_name is not None:
            base.sub_element(root, METADATA_PREFIX + ':name',
                             self.display_name)
        return root

    def parse_dom(self, element):
        if element.tag != self.parsed_name:
            raise ValueError('expected %s, not %s'
                             % (self.parsed_name, element.tag))
        self.display_name = element.findtext('{%s}name' % METADATA_NS)


class Guest(base.ConfigObject):
    """A <domain>: the guest's top level and its list of devices."""

    root_name = 'domain'

    def __init__(self):
        super().__init__()
        self.virt_type = 'kvm'
        self.name = None
        self.uuid = None
        self.memory_kib = None
        self.vcpus = 1
        #: number of IOThreads; 0 leaves out <iothreads>
        self.iothreads = 0
        #: the ids of <iothreadids>, when libvirt lists them
        self.iothread_ids = []
        self.os_type = 'hvm'
        self.os_arch = None
        self.os_machine = None
        #: True/False renders <bootmenu enable=...>; None leaves it out
        self.os_bootmenu = None
        #: the UEFI variables file of <nvram> ('' if libvirt picks it)
        self.os_nvram = None
        self.features = ['acpi', 'apic']
        self.clock_offset = 'utc'
        self.on_poweroff = 'destroy'
        self.on_reboot = 'restart'
        self.on_crash = 'destroy'
        self.emulator = None
        #: config objects rendered inside <metadata>
        self.metadata = []
        #: config objects rendered inside <devices>, in order
        self.devices = []

    def add_device(self, device):
        self.devices.append(device)

    def find_devices(self, cls):
        """The devices of one class, in order.

        :param cls: a configuration class, e.g. disks.Disk
        :returns: list of its instances among ``devices``
        """
        return [device for device in self.devices
                if isinstance(device, cls)]

    def disk(self, target):
        """The disk (or cdrom) at a target.

        :param target: the target device name, e.g. 'vda'
        :returns: a disks.Disk, or None if no disk has that target
        """
        for disk in self.find_devices(disk_config.Disk):
            if disk.target_dev == target:
                return disk
        return None

    def instance_metadata(self):
        """The agent's element of <metadata>, or None."""
        found = [item for item in self.metadata
                 if isinstance(item, InstanceMetadata)]
        return found[0] if found else None

    def format_dom(self):
        root = ElementTree.Element(self.root_name, {'type': self.virt_type})
        base.sub_element(root, 'name', self.name)
        base.sub_element(root, 'uuid', self.uuid)
        if self.metadata:
            meta = base.sub_element(root, 'metadata')
            for item in self.metadata:
                meta.append(item.format_dom())
        base.sub_element(root, 'memory', self.memory_kib, unit='KiB')
        base.sub_element(root, 'vcpu', self.vcpus)
        if self.iothreads:
            base.sub_element(root, 'iothreads', self.iothreads)
        if self.iothread_ids:
            ids = base.sub_element(root, 'iothreadids')
            for number in self.iothread_ids:
                base.sub_element(ids, 'iothread', id=number)
        self._format_os(root)
        if self.features:
            features = base.sub_element(root, 'features')
            for feature in self.features:
                base.sub_element(features, feature)
        base.sub_element(root, 'clock', offset=self.clock_offset)
        for event in ('on_poweroff', 'on_reboot', 'on_crash'):
            base.sub_element(root, event, getattr(self, event))
        devices = base.sub_element(root, 'devices')
        if self.emulator:
            base.sub_element(devices, 'emulator', self.emulator)
        for device in self.devices:
            devices.append(device.format_dom())
        self.format_extra(root)
        return root

    def _format_os(self, root):
        os_elem = base.sub_element(root, 'os')
        base.sub_element(os_elem, 'type', self.os_type, arch=self.os_arch,
                         machine=self.os_machine)
        if self.os_bootmenu is not None:
            base.sub_element(os_elem, 'bootmenu',
                             enable=base.yes_no(self.os_bootmenu))
        if self.os_nvram is not None:
            base.sub_element(os_elem, 'nvram', self.os_nvram)

    def parse_dom(self, element):
        """Read a <domain>, from this agent or from libvirt.

        Its memory is taken to be in KiB, as libvirt formats it. Of
        <os>, <features> and <clock>, only the fields here are read.

        :param element: the <domain> Element
        :raises: ValueError if it is not a <domain>
        """
        super().parse_dom(element)
        children = base.Children(element)
        self.virt_type = element.get('type')
        self.name = base.text_of(children.take('name'))
        self.uuid = base.text_of(children.take('uuid'))
        meta = children.take('metadata')
        self.metadata = [
            _parse(InstanceMetadata if item.tag == InstanceMetadata.parsed_name
                   else base.Unparsed, item)
            for item in (meta if meta is not None else ())]
        self.memory_kib = base.parse_int(base.text_of(children.take('memory')))
        self.vcpus = base.parse_int(base.text_of(children.take('vcpu')))
        self.iothreads = int(base.text_of(children.take('iothreads')) or 0)
        ids = children.take('iothreadids')
        self.iothread_ids = [int(t.get('id')) for t in (
            ids.findall('iothread') if ids is not None else ())]
        self._parse_os(children.take('os'))
        features = children.take('features')
        self.features = [f.tag for f in (features if features is not None
                                         else ())]
        self.clock_offset = base.attr_of(children.take('clock'), 'offset')
        for event in ('on_poweroff', 'on_reboot', 'on_crash'):
            setattr(self, event, base.text_of(children.take(event)))
        devices = children.take('devices')
        devices = list(devices) if devices is not None else []
        self.emulator = None
        self.devices = []
        for device in devices:
            if device.tag == 'emulator':
                self.emulator = device.text
            else:
                self.devices.append(_parse(
                    DEVICES.get(device.tag, base.Unparsed), device))
        self.extra = children.rest()

    def _parse_os(self, os_elem):
        os_type = os_elem.find('type') if os_elem is not None else None
        self.os_type = base.text_of(os_type)
        self.os_arch = base.attr_of(os_type, 'arch')
        self.os_machine = base.attr_of(os_type, 'machine')
        self.os_bootmenu = base.parse_flag(base.attr_of(
            os_elem.find('bootmenu') if os_elem is not None else None,
            'enable'))
        nvram = os_elem.find('nvram') if os_elem is not None else None
        self.os_nvram = (nvram.text or '') if nvram is not None else None
