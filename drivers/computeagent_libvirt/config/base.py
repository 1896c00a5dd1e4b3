"""The base of the libvirt configuration objects: fields <-> XML.

Each class holds the fields of one libvirt XML element. ``format_dom()``
renders them as a fresh ``xml.etree.ElementTree.Element`` and
``to_xml()`` as text; ``parse_dom(element)`` reads them back and
``parse_str(xml)`` builds an object from text. Every read of a domain's
XML goes through these classes (:mod:`computeagent_libvirt.config.guest`
parses a whole ``<domain>``).

Reading what libvirt returns: a child element a class has no field for
(an ``<alias>``, an address of another type, a block job's ``<mirror>``)
is kept whole in ``extra`` and rendered back after the others, so a
device read from libvirt can be given back to it. Attributes without a
field on an element that has one (libvirt's ``index`` of a disk source,
say) are dropped.
"""

import copy
from xml.etree import ElementTree

#: The elements and attributes that name a file of the host: the
#: sources (disk images, backing files, chardev paths) and logs.
FILE_TAGS = ('source', 'log')
FILE_ATTRS = ('file', 'path')


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


def on_off(flag):
    """libvirt's other spelling of a boolean attribute, None for unset."""
    if flag is None:
        return None
    return 'on' if flag else 'off'


def parse_flag(value):
    """True, False or None of a yes/no or on/off attribute value."""
    if value is None:
        return None
    return value in ('yes', 'on')


def parse_int(value, base=10):
    """An integer attribute or text, None if absent.

    :param base: 16 for libvirt's ``0x``-prefixed PCI address parts
    """
    if value is None:
        return None
    return int(value, base)


def attr_of(element, name):
    """An attribute of an element, None for a missing element."""
    return element.get(name) if element is not None else None


def text_of(element):
    """The text of an element, None for a missing element."""
    return element.text if element is not None else None


class Children(object):
    """The children of an element being parsed, each taken at most once.

    What no field took is the object's ``extra``.
    """

    def __init__(self, element):
        self._left = list(element)

    def take(self, tag, when=None):
        """The first child not taken yet with this tag, or None.

        :param when: a predicate on the child; one it refuses is left
        """
        for child in self._left:
            if child.tag == tag and (when is None or when(child)):
                self._left.remove(child)
                return child
        return None

    def take_all(self, tag):
        """Every child not taken yet with this tag, in order."""
        taken = [child for child in self._left if child.tag == tag]
        self._left = [child for child in self._left if child.tag != tag]
        return taken

    def rest(self):
        """Copies of the children nobody took."""
        return [copy.deepcopy(child) for child in self._left]


class ConfigObject(object):
    """Base of every configuration object."""

    #: the tag of the element this object renders
    root_name = None

    def __init__(self):
        #: children parse_dom had no field for, rendered back as they were
        self.extra = []

    def format_dom(self):
        """Build the element for this object's fields.

        :returns: a new xml.etree.ElementTree.Element
        """
        return ElementTree.Element(self.root_name)

    def format_extra(self, root):
        """Append the children kept by :meth:`parse_dom` to ``root``."""
        for child in self.extra:
            root.append(copy.deepcopy(child))

    def parse_dom(self, element):
        """Set this object's fields from an element of its kind.

        :param element: an xml.etree.ElementTree.Element
        :raises: ValueError if the element is of another kind
        """
        if element.tag != self.root_name:
            raise ValueError('expected <%s>, not <%s>'
                             % (self.root_name, element.tag))

    @classmethod
    def parse_str(cls, xml):
        """A new object of this class read from XML text.

        :raises: ValueError for text that is not XML of this element
        """
        try:
            element = ElementTree.fromstring(xml)
        except ElementTree.ParseError as e:
            raise ValueError('not XML: %s' % e)
        obj = cls()
        obj.parse_dom(element)
        return obj

    def to_xml(self, pretty=True):
        """Render this object as XML text.

        :param pretty: indent the output (two spaces per level)
        :returns: str, without an XML declaration
        """
        root = self.format_dom()
        if pretty:
            ElementTree.indent(root)
        return ElementTree.tostring(root, encoding='unicode')

    def named_files(self):
        """The host files this object's XML names, in document order.

        Those are the ``file`` and ``path`` attributes of every
        ``<source>`` and ``<log>`` in it, however deep: disk images and
        their backing files, cdrom media, chardev logs and sockets.

        :returns: list of str
        """
        return [element.get(attr)
                for element in self.format_dom().iter()
                if element.tag in FILE_TAGS
                for attr in FILE_ATTRS if element.get(attr)]


class Unparsed(ConfigObject):
    """An element no class models (a device, a metadata entry), kept whole.

    What libvirt adds to a domain (an ``<input>``, a ``<channel>``) is
    rendered back unchanged.
    """

    def __init__(self, element=None):
        super().__init__()
        self.element = element

    @property
    def root_name(self):
        return self.element.tag if self.element is not None else None

    def format_dom(self):
        return copy.deepcopy(self.element)

    def parse_dom(self, element):
        self.element = copy.deepcopy(element)
