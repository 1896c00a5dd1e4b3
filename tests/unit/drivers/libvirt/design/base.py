"""Base class of the designer tests: every designed guest is defined.

Every spec designed is first checked to be one the schema gives: the
designer takes validated specs only, so a test of anything else would
test what cannot happen.
"""

from xml.etree import ElementTree

from computeagent.schema import instance as schema
from computeagent_libvirt.design import guest as designer
from tests import base
from tests.unit.drivers.libvirt import testdriver
from tests.unit.drivers.libvirt import utils


class DesignerTestCase(base.TestCase):
    """Designs guests and defines each one on libvirt's test driver."""

    def setUp(self):
        super().setUp()
        self.libvirt = self.useFixture(testdriver.TestDriver())

    def design(self, spec=None, plan=None, direct_io=True, **kw):
        """Design ``spec``, define the XML on the test driver, return both.

        :returns: (guest config, root Element parsed from the rendered XML)
        """
        spec = spec if spec is not None else utils.make_spec()
        self.assertEqual(spec, schema.validate_spec(spec.to_dict(),
                                                    self.conf),
                         'not a normalized spec')
        plan = plan if plan is not None else utils.plan_for(spec)
        guest = designer.design_guest(spec, plan, self.conf,
                                      direct_io=direct_io, **kw)
        # Undefined again at once: a test may design the same uuid twice.
        xml = guest.to_xml()
        self.libvirt.define(xml).undefine()
        return guest, ElementTree.fromstring(xml)

    def disk_elems(self, dom):
        return dom.findall('devices/disk')

    def driver_of(self, dom, index=0):
        return self.disk_elems(dom)[index].find('driver').attrib
