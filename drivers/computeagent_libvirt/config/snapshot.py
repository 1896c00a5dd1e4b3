"""Configuration objects of a disk-only snapshot: <domainsnapshot>.

Fields in, XML out and back; no policy (see
:mod:`computeagent_libvirt.config.base`).
"""

from computeagent_libvirt.config import base


class SnapshotDisk(base.ConfigObject):
    """One <disk> of a snapshot: left out, or an external overlay."""

    root_name = 'disk'

    def __init__(self, name=None, snapshot=None, driver_format=None,
                 source_file=None):
        super().__init__()
        #: the target of the domain's disk, e.g. 'vda'
        self.name = name
        #: 'no' or 'external'
        self.snapshot = snapshot
        #: the overlay's format (external)
        self.driver_format = driver_format
        #: the overlay libvirt creates (external)
        self.source_file = source_file

    def format_dom(self):
        root = super().format_dom()
        root.attrib.update(base.attributes({'name': self.name,
                                            'snapshot': self.snapshot}))
        if self.driver_format is not None:
            base.sub_element(root, 'driver', type=self.driver_format)
        if self.source_file is not None:
            base.sub_element(root, 'source', file=self.source_file)
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        self.name = element.get('name')
        self.snapshot = element.get('snapshot')
        self.driver_format = base.attr_of(element.find('driver'), 'type')
        self.source_file = base.attr_of(element.find('source'), 'file')


class DomainSnapshot(base.ConfigObject):
    """<domainsnapshot>: which disks a snapshot covers, and how."""

    root_name = 'domainsnapshot'

    def __init__(self):
        super().__init__()
        #: SnapshotDisk objects, in order
        self.disks = []

    def format_dom(self):
        root = super().format_dom()
        disks = base.sub_element(root, 'disks')
        for disk in self.disks:
            disks.append(disk.format_dom())
        return root

    def parse_dom(self, element):
        super().parse_dom(element)
        self.disks = []
        for disk in element.findall('disks/disk'):
            self.disks.append(SnapshotDisk())
            self.disks[-1].parse_dom(disk)
