"""Base of the LibvirtDriver tests: the driver on libvirt's test driver.

Every test gets a fresh ``test:///<tmp>/node.xml`` host, an image
directory with small real images (tests/images.py) and an initialised
driver. Assertions look at libvirt through the driver's own connection:
each test-driver connection is a separate host.
"""

import dataclasses
import os
import subprocess
import threading
from xml.etree import ElementTree

import fixtures

from computeagent.objects import record as record_obj
from computeagent.objects import stored as stored_obj
from computeagent_images import directory
from computeagent_libvirt import driver
from tests import base
from tests import images
from tests.unit.drivers.libvirt import testdriver
from tests.unit.drivers.libvirt import utils

UUID = utils.UUID


def instance_of(uuid):
    """A StoredInstance naming ``uuid`` and nothing else of note."""
    return stored_obj.StoredInstance(record=record_obj.InstanceRecord(
        uuid=uuid, name=uuid, host='test-host', state=None, vcpus=1,
        memory_mb=128, disks=(), serial_ports=(), console_log=None,
        created_at='', metadata=()))


class DriverTestCase(utils.EventRecording, base.TestCase):

    def setUp(self):
        super().setUp()
        node_dir = self.useFixture(fixtures.TempDir()).path
        node = os.path.join(node_dir, 'node.xml')
        with open(node, 'w') as f:
            f.write(testdriver.NODE_XML)
        # ACPI requests are no-ops on the test driver: waiting for their
        # effect would only slow the tests down.
        self.flags(connection_uri='test://' + node,
                   soft_reboot_timeout=0, power_poll_interval=0.01,
                   group='libvirt')
        self.images = self.conf.image.directory
        os.makedirs(self.images)
        images.write_raw_image(self.image('boot.raw'), b'BOOT')
        images.write_qcow2_image(self.image('data.qcow2'), b'DATA')
        self.driver = self.new_driver()
        self.events = []
        self.event_seen = threading.Event()
        self.driver.register_event_listener(self._on_event)
        self.driver.init_host('test-host')
        self.conn = self.driver.host.connection()

    def new_driver(self):
        """A LibvirtDriver of the current options, closed at clean-up."""
        # The image source is given, not loaded by entry point: stevedore
        # caches a namespace's entry points for the life of the process,
        # which would hide the test plugins of other tests.
        new = driver.LibvirtDriver(self.conf,
                                   directory.DirectoryImageSource(self.conf))
        self.addCleanup(new.cleanup_host)
        return new

    def image(self, name):
        return os.path.join(self.images, name)

    def instance_dir(self, uuid=UUID):
        return os.path.join(self.conf.instances_path, uuid)

    def spec(self, **kw):
        kw.setdefault('disks', [utils.make_disk(source={'image': 'boot.raw'},
                                                boot_index=1)])
        return utils.make_spec(**kw)

    def spawn(self, spec=None):
        """Spawn ``spec``; :returns: the StoredInstance the manager keeps"""
        spec = spec or self.spec()
        placement = self.driver.spawn(spec, {})
        if placement.nics:
            spec = dataclasses.replace(spec, nics=placement.nics)
        return stored_obj.StoredInstance(
            record=record_obj.InstanceRecord(
                uuid=spec.uuid, name=spec.name, host='test-host',
                state='running', vcpus=spec.vcpus,
                memory_mb=spec.memory_mb, disks=placement.disks,
                serial_ports=placement.serial_ports,
                console_log=placement.console_log,
                created_at='2026-01-01T00:00:00.000000Z',
                metadata=spec.metadata),
            spec=spec)

    def lookup(self, uuid=UUID):
        return self.conn.lookupByUUIDString(uuid)

    def domain_uuids(self):
        return sorted(d.UUIDString() for d in self.conn.listAllDomains())

    def disk_sources(self, xml):
        """{target: source file or None} of a domain XML."""
        sources = {}
        for disk in ElementTree.fromstring(xml).findall('devices/disk'):
            source = disk.find('source')
            sources[disk.find('target').get('dev')] = (
                source.get('file') if source is not None else None)
        return sources

    def write_pattern(self, path, fmt, pattern, offset=0):
        subprocess.run(['qemu-io', '-f', fmt, '-c',
                        'write -P %d %d 4k' % (pattern, offset), path],
                       check=True, stdout=subprocess.DEVNULL)

    def has_pattern(self, path, fmt, pattern, offset=0):
        result = subprocess.run(['qemu-io', '-r', '-f', fmt, '-c',
                                 'read -P %d %d 4k' % (pattern, offset),
                                 path], stdout=subprocess.PIPE, text=True)
        return (result.returncode == 0
                and 'Pattern verification failed' not in result.stdout)
