"""libvirt's own test hypervisor as a fixture: the real domain XML parser.

Each fixture writes a node description into a private temp dir and opens
``test:///<dir>/node.xml``, so every test starts from an empty host and
no state leaks between tests (``test:///default`` lives as long as the
process). Only tests import libvirt outside
drivers/computeagent_libvirt/host.py.
"""

import os
from xml.etree import ElementTree

import fixtures
import libvirt

# The smallest node the test driver accepts: a CPU topology and memory.
# It reports an i686 host whose guests may have domain type kvm or qemu.
NODE_XML = """<node>
  <cpu>
    <nodes>1</nodes>
    <sockets>1</sockets>
    <cores>4</cores>
    <threads>1</threads>
    <active>4</active>
    <mhz>2000</mhz>
    <model>i686</model>
  </cpu>
  <memory>8388608</memory>
</node>
"""


def _quiet(ctx, err):
    # libvirt's default handler prints every error to stderr; the tests
    # look at the raised libvirtError instead.
    pass


class TestDriver(fixtures.Fixture):
    """A fresh connection to libvirt's test driver.

    :ivar conn: the open libvirt connection
    :ivar uri: its URI
    """

    def _setUp(self):
        path = self.useFixture(fixtures.TempDir()).path
        node = os.path.join(path, 'node.xml')
        with open(node, 'w') as f:
            f.write(NODE_XML)
        libvirt.registerErrorHandler(_quiet, None)
        self.addCleanup(libvirt.registerErrorHandler, None, None)
        self.uri = 'test://' + node
        self.conn = libvirt.open(self.uri)
        self.addCleanup(self.conn.close)

    def define(self, xml):
        """Define a domain from XML; libvirt parses and validates it.

        :returns: the virDomain
        :raises: libvirt.libvirtError when libvirt refuses the XML
        """
        return self.conn.defineXML(xml)

    def define_and_read_back(self, xml):
        """Define a domain and return libvirt's inactive XML of it.

        :returns: ElementTree.Element of the <domain> libvirt stored
        """
        dom = self.define(xml)
        return ElementTree.fromstring(
            dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
