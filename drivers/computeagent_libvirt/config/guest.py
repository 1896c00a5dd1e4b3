"""libvirt guest configuration objects: fields in, domain XML out.

Each class holds the fields of one libvirt XML element and renders them;
none of them decides anything (which bus, which cache mode, which boot
order): that policy lives in :mod:`computeagent_libvirt.design.guest`.
The device classes are in :mod:`computeagent_libvirt.config.devices` and
:mod:`computeagent_libvirt.config.disks`.

Every object offers ``format_dom()``, returning a fresh
``xml.etree.ElementTree.Element``, and ``to_xml()``, returning the text.
"""

from xml.etree import ElementTree

#: XML namespace of the agent's own element in the domain's <metadata>.
METADATA_NS = 'http://computeagent.org/xmlns/libvirt/instance/1.0'
#: Prefix used for that namespace in the rendered XML.
METADATA_PREFIX = 'computeagent'


def sub_element(parent, tag, text=None, **attrs):
    """Append a child element, dropping attributes whose value is None.

    :param parent: the parent Element
    :param tag: the child's tag
    :param text: the child's text, or None
    :param attrs: attribute values; None means "leave the attribute out"
    :returns: the new Element
    """
    child = ElementTree.SubElement(parent, tag, attributes(attrs))
    if text is not None:
        child.text = str(text)
    return child


def attributes(attrs):
    """The given attributes as strings, without those whose value is None.

    :param attrs: dict of attribute name to value or None
    :returns: dict of str to str
    """
    return {key: str(value) for key, value in attrs.items()
            if value is not None}


def yes_no(flag):
    """libvirt's spelling of a boolean attribute, None for unset."""
    if flag is None:
        return None
    return 'yes' if flag else 'no'


class ConfigObject(object):
    """Base of every configuration object."""

    #: the tag of the element this object renders
    root_name = None

    def format_dom(self):
        """Build the element for this object's fields.

        :returns: a new xml.etree.ElementTree.Element
        """
        return ElementTree.Element(self.root_name)

    def to_xml(self, pretty=True):
        """Render this object as XML text.

        :param pretty: indent the output (two spaces per level)
        :returns: str, without an XML declaration
        """
        root = self.format_dom()
        if pretty:
            ElementTree.indent(root)
        return ElementTree.tostring(root, encoding='unicode')


class InstanceMetadata(ConfigObject):
    """The agent's element inside the domain's <metadata>.

    The libvirt domain name is derived from the uuid, so the display name
    (free text chosen by the user) is kept here where nothing parses it.
    """

    # A literal prefix, not ElementTree.register_namespace(), because that
    # registry is process-wide state.
    root_name = METADATA_PREFIX + ':instance'

    def __init__(self, display_name=None):
        self.display_name = display_name

    def format_dom(self):
        root = ElementTree.Element(
            self.root_name, {'xmlns:' + METADATA_PREFIX: METADATA_NS})
        if self.display_name is not None:
            sub_element(root, METADATA_PREFIX + ':name', self.display_name)
        return root


class Guest(ConfigObject):
    """A <domain>: the guest's top level and its list of devices."""

    root_name = 'domain'

    def __init__(self):
        self.virt_type = 'kvm'
        self.name = None
        self.uuid = None
        self.memory_kib = None
        self.vcpus = 1
        #: number of IOThreads; 0 leaves out <iothreads>
        self.iothreads = 0
        self.os_type = 'hvm'
        self.os_arch = None
        self.os_machine = None
        #: True/False renders <bootmenu enable=...>; None leaves it out
        self.os_bootmenu = None
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

    def format_dom(self):
        root = ElementTree.Element(self.root_name, {'type': self.virt_type})
        sub_element(root, 'name', self.name)
        sub_element(root, 'uuid', self.uuid)
        if self.metadata:
            meta = sub_element(root, 'metadata')
            for item in self.metadata:
                meta.append(item.format_dom())
        sub_element(root, 'memory', self.memory_kib, unit='KiB')
        sub_element(root, 'vcpu', self.vcpus)
        if self.iothreads:
            sub_element(root, 'iothreads', self.iothreads)
        self._format_os(root)
        if self.features:
            features = sub_element(root, 'features')
            for feature in self.features:
                sub_element(features, feature)
        sub_element(root, 'clock', offset=self.clock_offset)
        sub_element(root, 'on_poweroff', self.on_poweroff)
        sub_element(root, 'on_reboot', self.on_reboot)
        sub_element(root, 'on_crash', self.on_crash)
        devices = sub_element(root, 'devices')
        if self.emulator:
            sub_element(devices, 'emulator', self.emulator)
        for device in self.devices:
            devices.append(device.format_dom())
        return root

    def _format_os(self, root):
        os_elem = sub_element(root, 'os')
        sub_element(os_elem, 'type', self.os_type, arch=self.os_arch,
                    machine=self.os_machine)
        if self.os_bootmenu is not None:
            sub_element(os_elem, 'bootmenu',
                        enable=yes_no(self.os_bootmenu))
