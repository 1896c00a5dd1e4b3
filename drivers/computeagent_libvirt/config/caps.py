"""The host capabilities libvirt describes: <capabilities>, what is read.

Fields in, XML out and back; no policy (see
:mod:`computeagent_libvirt.config.base`).
"""

from computeagent_libvirt.config import base


class Capabilities(base.ConfigObject):
    """<capabilities>: the host's CPU architecture; the rest is ignored."""

    root_name = 'capabilities'

    def __init__(self):
        super().__init__()
        self.host_arch = None

    def format_dom(self):
        root = super().format_dom()
        cpu = base.sub_element(base.sub_element(root, 'host'), 'cpu')
        base.sub_element(cpu, 'arch', self.host_arch)
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        self.host_arch = element.findtext('host/cpu/arch')
