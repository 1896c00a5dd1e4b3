"""The guests both sides start: the agent's, and the floor's by hand.

The floor starts the very domain XML the agent renders (only the uuid,
name and paths changed) on an overlay of the very base image the agent
cached, so that the two differ only by what the agent itself does.
"""

import os
import shutil
import subprocess
import time
import uuid as uuid_mod
import xml.etree.ElementTree as ElementTree

import libvirt

from tests import images

IMAGE = 'bench.img'
#: What the bench image's boot sector prints on COM1.
MARKER = b'bench'
#: How often a console log is read while waiting for the marker; both
#: sides wait the same way, so the polling costs them alike.
POLL_S = 0.005


def spec(uuid=None):
    """A create_instance spec of the bench guest.

    :param uuid: the instance's uuid; a new one when None
    :returns: the spec as a plain dict, as a controller sends it
    """
    return {'uuid': uuid or str(uuid_mod.uuid4()), 'memory_mb': 64,
            'disks': [{'source': {'image': IMAGE}, 'boot_index': 1}]}


def write_image(agent):
    """Write the bench boot sector into the agent's image directory.

    :param agent: a started :class:`tests.functional.fixtures.AgentFixture`
    """
    images.write_raw_image(os.path.join(agent.image_dir, IMAGE), MARKER)


def agent_console(agent, uuid):
    """Where the agent's guest ``uuid`` logs its serial port 0."""
    return os.path.join(agent.instances_path, uuid, 'console.log')


def wait_for_marker(path, timeout=60):
    """Wait until ``path`` holds the marker.

    :param path: a console log, which may not exist yet
    :param timeout: seconds to wait at most
    :returns: ``time.monotonic()`` when the marker was seen
    :raises RuntimeError: no marker within ``timeout``
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, 'rb') as f:
                if MARKER in f.read():
                    return time.monotonic()
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError('no %r in %s within %s s'
                               % (MARKER, path, timeout))
        time.sleep(POLL_S)


class FloorGuest(object):
    """One guest of the floor: its directory, disk and domain XML."""

    def __init__(self, workdir, template_xml):
        self.uuid = str(uuid_mod.uuid4())
        self.directory = os.path.join(workdir, self.uuid)
        self.disk = os.path.join(self.directory, 'disk')
        self.console = os.path.join(self.directory, 'console.log')
        self.domain = None
        root = ElementTree.fromstring(template_xml)
        root.find('uuid').text = self.uuid
        root.find('name').text = 'bench-floor-%s' % self.uuid
        root.find('./devices/disk/source').set('file', self.disk)
        for source in root.iter('source'):
            if source.get('path', '').endswith('console.log'):
                source.set('path', self.console)
        for log in root.iter('log'):
            log.set('file', self.console)
        self.xml = ElementTree.tostring(root, encoding='unicode')


class Floor(object):
    """Does by hand what the agent does: qemu-img, createXML, destroy, rm.

    :param template_xml: the domain XML the agent rendered for the spec
    :param base: the agent's cached base image of the bench image
    :param workdir: where the floor's guests get their directories
    """

    def __init__(self, template_xml, base, workdir):
        self.template_xml = template_xml
        self.base = base
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.conn = libvirt.open('qemu:///system')

    def close(self):
        self.conn.close()

    def guest(self):
        """A new guest, not started: the untimed preparation.

        :returns: a :class:`FloorGuest` whose directory exists
        """
        guest = FloorGuest(self.workdir, self.template_xml)
        os.makedirs(guest.directory)
        return guest

    def create(self, guest):
        """The timed part of a create: the overlay, then createXML.

        :param guest: a :class:`FloorGuest` from :meth:`guest`
        :raises subprocess.CalledProcessError: qemu-img failed
        :raises libvirt.libvirtError: libvirt refused the domain
        """
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b',
                        self.base, '-F', 'raw', guest.disk], check=True)
        guest.domain = self.conn.createXML(guest.xml, 0)

    def remove(self, guest):
        """The timed part of a delete: destroy, then rm the directory.

        :param guest: a started :class:`FloorGuest`
        """
        guest.domain.destroy()
        shutil.rmtree(guest.directory)


def agent_base(agent):
    """The agent's cached base image of the bench image.

    :param agent: an agent that created a guest of the bench image
    :returns: its path
    :raises RuntimeError: the agent cached no base image
    """
    base_dir = os.path.join(agent.instances_path, '_base')
    # The cache's own bookkeeping files carry a suffix; the base does not.
    bases = [name for name in os.listdir(base_dir)
             if not name.startswith('.') and '.' not in name]
    if len(bases) != 1:
        raise RuntimeError('expected one base image in %s, found %s'
                           % (base_dir, bases))
    return os.path.join(base_dir, bases[0])


def make_floor(agent):
    """Warm the agent's image cache and make the floor of its guests.

    One create and delete through the agent caches the base image; the
    agent's rendering of a spec is the floor's template, so that both
    start the very same guest.

    :param agent: a started libvirt agent with the bench image
    :returns: a :class:`Floor`
    """
    warm = spec()
    agent.call('create_instance', spec=warm)
    template = agent.call('render_instance', spec=spec())['domain_xml']
    agent.call('delete_instance', uuid=warm['uuid'])
    return Floor(template, agent_base(agent), os.path.join(agent.dir,
                                                           'floor'))
