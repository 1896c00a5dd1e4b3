"""Shared helpers of the libvirt functional tests (real QEMU guests).

Each test gets its own agent (:class:`LibvirtTestCase`) running the
libvirt driver against the system libvirtd with TCG (``virt_type=qemu``),
and boots guests whose only software is a boot sector printing a marker
to COM1 (tests/images.py). What the tests check is read back from the
outside: the live domain XML (``virsh dumpxml``), the files under the
instances path, ``qemu-img info`` and the console log.
"""

import hashlib
import json
import os
import socket
import subprocess
import time
import uuid as uuid_mod
from xml.etree import ElementTree

from testtools import content

from tests.functional import base
from tests.functional import fixtures as ft_fixtures
from tests import images

URI = 'qemu:///system'
#: small guests: TCG, 64 MiB, soft reboots fall back to a reset quickly
LIBVIRT_OPTIONS = {'libvirt': {'virt_type': 'qemu',
                               'connection_uri': URI,
                               'soft_reboot_timeout': 2}}
GUEST_MEMORY_MB = 64
POLL_INTERVAL = 0.2


def virsh(*args, check=True):
    """virsh on the system libvirtd; returns its output."""
    return ft_fixtures.virsh(*args, check=check)


def dumpxml(uuid, inactive=False):
    """The live (or persistent) domain XML of an instance, parsed.

    :returns: the <domain> Element
    """
    args = ['dumpxml', uuid]
    if inactive:
        args.append('--inactive')
    return ElementTree.fromstring(virsh(*args))


def find_disk(domain, target):
    """The <disk> element whose target dev is ``target``.

    :raises: AssertionError if the domain has no such disk
    """
    for disk in domain.findall('devices/disk'):
        if disk.find('target').get('dev') == target:
            return disk
    raise AssertionError('the domain has no disk %s; it has %s' % (
        target, [d.find('target').get('dev')
                 for d in domain.findall('devices/disk')]))


def domain_uuids():
    """The UUIDs of every domain libvirt knows, running or not."""
    return set(virsh('list', '--all', '--uuid').split())


def sha256(path):
    """The SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1024 * 1024), b''):
            digest.update(block)
    return digest.hexdigest()


def qemu_img_info(path, chain=False):
    """``qemu-img info -U --output=json`` of an image (shared lock).

    :param chain: ``--backing-chain``: a list, top image first
    """
    cmd = ['qemu-img', 'info', '-U', '--output=json']
    if chain:
        cmd.append('--backing-chain')
    result = subprocess.run(cmd + [path], check=True, capture_output=True,
                            text=True, timeout=60)
    return json.loads(result.stdout)


def qemu_io(path, fmt, command):
    """Run one qemu-io command on an image, read-only, shared lock.

    :returns: (return code, output); a failed ``read -P`` pattern check
        says "Pattern verification failed" in the output
    """
    result = subprocess.run(['qemu-io', '-U', '-r', '-f', fmt, '-c',
                             command, path], capture_output=True,
                            text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


def hmp(uuid, command):
    """A human monitor command in the running guest's QEMU."""
    return virsh('qemu-monitor-command', uuid, '--hmp', command)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago.

    The kernel picks it among the ephemeral ports, so concurrent tests
    do not collide (a small race with other programs remains).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def poll(predicate, timeout, what):
    """Call ``predicate`` until it returns something true.

    :returns: the true value
    :raises: AssertionError naming ``what`` after ``timeout`` seconds
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('%s: not within %s s' % (what, timeout))
        time.sleep(POLL_INTERVAL)


def wait_for_console(agent, uuid, marker, timeout=60, count=1):
    """Poll get_console_output until ``marker`` appears ``count`` times.

    :param marker: bytes or str (the boot sectors print ASCII)
    :returns: the output seen last
    :raises: AssertionError with the output seen last, after ``timeout``
    """
    if isinstance(marker, bytes):
        marker = marker.decode('ascii')
    seen = {'output': ''}

    def appeared():
        seen['output'] = agent.call('get_console_output', uuid=uuid,
                                    max_bytes=1024 * 1024)['output']
        return seen['output'].count(marker) >= count
    try:
        poll(appeared, timeout, 'marker %r x%d on the console of %s'
             % (marker, count, uuid))
    except AssertionError as e:
        raise AssertionError('%s; the console has %r' % (e, seen['output']))
    return seen['output']


def new_marker(label):
    """A marker unique to this run: ``label`` plus random hex."""
    return ('%s-%s' % (label, uuid_mod.uuid4().hex[:12])).encode('ascii')


class LibvirtTestCase(base.FunctionalTestCase):
    """One agent with the libvirt driver per test.

    Subclasses may set ``extra_options`` ({group: {name: value}}).
    """

    extra_options = {}

    def setUp(self):
        super().setUp()
        options = {group: dict(values)
                   for group, values in LIBVIRT_OPTIONS.items()}
        for group, values in self.extra_options.items():
            options.setdefault(group, {}).update(values)
        self.agent = self.useFixture(ft_fixtures.AgentFixture(
            'libvirt', options=options))
        self.addOnException(self._attach_agent_log)

    def _attach_agent_log(self, exc_info):
        self.addDetailUniqueName('agent.log', content.text_content(
            self.agent.log_tail(200)))

    # -- images ------------------------------------------------------

    def image_path(self, name):
        return os.path.join(self.agent.image_dir, name)

    def raw_image(self, name, marker, **kwargs):
        """A bootable raw image in the agent's image directory."""
        images.write_raw_image(self.image_path(name), marker, **kwargs)
        return name

    def qcow2_image(self, name, marker):
        """A bootable qcow2 image in the agent's image directory."""
        images.write_qcow2_image(self.image_path(name), marker)
        return name

    def iso_image(self, name, marker):
        """A bootable ISO in the agent's image directory."""
        images.make_iso(self.image_path(name), marker)
        return name

    # -- instances -------------------------------------------------

    def spec(self, disks, **extra):
        """An instance spec of a small guest (a fresh uuid)."""
        spec = {'uuid': self.new_uuid(), 'memory_mb': GUEST_MEMORY_MB,
                'disks': disks}
        spec.update(extra)
        return spec

    def create(self, spec):
        """create_instance; the instance is deleted at cleanup if it lives.

        :returns: the instance record
        """
        record = self.agent.call('create_instance', spec=spec)
        self.addCleanup(self._delete_quietly, spec['uuid'])
        self.assertEqual('running', record['state'], record)
        return record

    def _delete_quietly(self, uuid):
        try:
            self.agent.call('delete_instance', uuid=uuid)
        except Exception:
            # Deleted by the test already (or the agent is gone: the
            # fixture then removes the domain itself).
            pass

    def instance_dir(self, uuid):
        return os.path.join(self.agent.instances_path, uuid)

    def base_dir(self):
        return os.path.join(self.agent.instances_path, '_base')

    def base_files(self):
        """The names in ``_base`` (an empty set if it does not exist)."""
        try:
            return set(os.listdir(self.base_dir()))
        except FileNotFoundError:
            return set()

    def console_file(self, uuid):
        return os.path.join(self.instance_dir(uuid), 'console.log')

    def read_console_file(self, uuid):
        """console.log's bytes (written by virtlogd, root 0600)."""
        with open(self.console_file(uuid), 'rb') as f:
            return f.read()

    def assertNothingLeft(self, uuid, base_before=None):
        """No domain, no instance directory, no record; _base as before."""
        self.assertNotIn(uuid, domain_uuids())
        self.assertFalse(os.path.exists(self.instance_dir(uuid)),
                         os.listdir(self.instance_dir(uuid))
                         if os.path.isdir(self.instance_dir(uuid)) else '')
        self.assertRemoteError('InstanceNotFound', self.agent.call,
                               'get_instance', uuid=uuid)
        if base_before is not None:
            self.assertEqual(base_before, self.base_files())
