"""Shared helpers of the libvirt functional tests (real QEMU guests).

Each test uses an agent (:class:`LibvirtTestCase`) running the libvirt
driver against the system libvirtd with TCG (``virt_type=qemu``), its own
or one that the test process's other tests share, and boots guests whose
only software is a boot sector printing a marker to COM1
(tests/images.py). What the tests check is read back from the
outside: the live domain XML (``virsh dumpxml``), the files under the
instances path, ``qemu-img info`` and the console log.
"""

import hashlib
import json
import os
import shutil
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


def guest_io(uuid, target, command):
    """One qemu-io command on a virtio disk, inside the guest's QEMU.

    It goes through the disk's own block backend, exactly like the
    guest's writes: into whatever image is the top of the chain now.
    The device is named by the QOM path of the virtio-blk backend under
    the disk's alias in the live XML (the PCI proxy that the alias names
    has no block backend of its own).

    :raises: AssertionError if QEMU reports an error or a failed pattern
    """
    alias = find_disk(dumpxml(uuid), target).find('alias').get('name')
    path = '/machine/peripheral/%s/virtio-backend' % alias
    output = hmp(uuid, 'qemu-io -d %s "%s"' % (path, command))
    if 'rror' in output or 'failed' in output:
        raise AssertionError('qemu-io %r on %s of %s: %s'
                             % (command, target, uuid, output))
    return output


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


def virtlogd_has_open(path):
    """Whether the system virtlogd has a file open (to write to it).

    virtlogd holds a guest's console log open while the guest's QEMU
    runs, writing what comes down QEMU's pipe, and closes it once the
    pipe ends: after that it writes nothing more to it.
    """
    with open('/run/virtlogd.pid') as f:
        pid = int(f.read().strip())
    fd_dir = '/proc/%d/fd' % pid
    if os.readlink('/proc/%d/exe' % pid) != '/usr/sbin/virtlogd':
        raise AssertionError('/run/virtlogd.pid names no virtlogd')
    path = os.path.realpath(path)
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) == path:
                return True
        except FileNotFoundError:
            pass  # closed meanwhile
    return False


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


# A boot sector body that prints a hexadecimal line counter to COM1
# forever: "00000000\r\n", "00000001\r\n", ... (10 bytes a line, no line
# repeats within 40 GiB). In nasm syntax (bits 16)::
#
#         mov dx, 0x3f8          ; BA F8 03
#         xor ecx, ecx           ; 66 31 C9
#     top:
#         mov ebx, ecx           ; 66 89 CB
#         mov si, 8              ; BE 08 00
#     digit:
#         rol ebx, 4             ; 66 C1 C3 04
#         mov al, bl             ; 88 D8
#         and al, 0x0f           ; 24 0F
#         add al, '0'            ; 04 30
#         cmp al, '9'            ; 3C 39
#         jbe ok                 ; 76 02
#         add al, 7              ; 04 07
#     ok:
#         out dx, al             ; EE
#         dec si                 ; 4E
#         jnz digit              ; 75 EC
#         mov al, 13             ; B0 0D
#         out dx, al             ; EE
#         mov al, 10             ; B0 0A
#         out dx, al             ; EE
#         inc ecx                ; 66 41
#         jmp top                ; EB DC
_COUNTER_CODE = bytes.fromhex(
    'baf8036631c96689cbbe080066c1c30488d8240f04303c3976020407ee4e'
    '75ecb00deeb00aee6641ebdc')
COUNTER_LINE_BYTES = 10


def write_counter_image(path, size_mb=1):
    """A raw disk whose boot sector prints a line counter without end.

    The MBR (partition entry, 55 AA) is the one of tests/images.py with
    this code in place of the marker's.

    :returns: ``path``
    """
    sector = bytearray(images.make_boot_sector(
        b'', size_mb * images.MIB // images.SECTOR))
    sector[:len(_COUNTER_CODE)] = _COUNTER_CODE
    with open(path, 'wb') as f:
        f.write(sector)
        f.truncate(size_mb * images.MIB)
    return path


def new_marker(label):
    """A marker unique to this run: ``label`` plus random hex."""
    return ('%s-%s' % (label, uuid_mod.uuid4().hex[:12])).encode('ascii')


def own_agent(test_method):
    """Mark a test of a ``shared_agent`` class that needs its own agent.

    For a test that stops or restarts the agent, or asserts something of
    the agent as a whole: every instance it lists, every file of its
    instances path or ``_base``, its host totals.
    """
    test_method.own_agent = True
    return test_method


class LibvirtTestCase(base.FunctionalTestCase):
    """A test with an agent of the libvirt driver.

    Each test has an agent of its own, unless its class sets
    ``shared_agent``: then its tests use the agent that every such test
    of the process uses (tests/functional/fixtures.py, SharedAgent says
    what such a test may not do), except those marked :func:`own_agent`.
    A test with ``extra_options`` ({group: {name: value}}) always has
    its own.
    """

    extra_options = {}
    shared_agent = False

    def setUp(self):
        super().setUp()
        options = {group: dict(values)
                   for group, values in LIBVIRT_OPTIONS.items()}
        for group, values in self.extra_options.items():
            options.setdefault(group, {}).update(values)
        if self.uses_shared_agent():
            self.agent = self.use_shared_agent('libvirt', options)
            # The images of this test, beside those of the others.
            self.image_subdir = 'test-%s' % uuid_mod.uuid4().hex[:12]
            directory = os.path.join(self.agent.image_dir,
                                     self.image_subdir)
            os.mkdir(directory)
            self.addCleanup(shutil.rmtree, directory)
        else:
            self.agent = self.useFixture(ft_fixtures.AgentFixture(
                'libvirt', options=options))
            self.image_subdir = None
        self.addOnException(self._attach_agent_log)

    def uses_shared_agent(self):
        method = getattr(self, self._testMethodName)
        return (self.shared_agent and not self.extra_options and
                not getattr(method, 'own_agent', False))

    def _attach_agent_log(self, exc_info):
        self.addDetailUniqueName('agent.log', content.text_content(
            self.agent.log_tail(200)))

    # -- images ------------------------------------------------------

    def image_ref(self, name):
        """The reference to an image of this test, for a spec."""
        if self.image_subdir is None:
            return name
        return '%s/%s' % (self.image_subdir, name)

    def image_path(self, name):
        return os.path.join(self.agent.image_dir, self.image_ref(name))

    def raw_image(self, name, marker, **kwargs):
        """A bootable raw image of this test; its reference."""
        images.write_raw_image(self.image_path(name), marker, **kwargs)
        return self.image_ref(name)

    def qcow2_image(self, name, marker):
        """A bootable qcow2 image of this test; its reference."""
        images.write_qcow2_image(self.image_path(name), marker)
        return self.image_ref(name)

    def counter_image(self, name):
        """A raw image printing a line counter forever (see above)."""
        write_counter_image(self.image_path(name))
        return self.image_ref(name)

    def floppy_image(self, name, marker):
        """A bootable 1.44 MB floppy image of this test; its reference."""
        images.write_floppy_image(self.image_path(name), marker)
        return self.image_ref(name)

    def iso_image(self, name, marker):
        """A bootable ISO of this test; its reference."""
        images.make_iso(self.image_path(name), marker)
        return self.image_ref(name)

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

    def stop(self, uuid, timeout=0):
        """stop_instance; ``timeout`` 0 forces the guest off at once."""
        return self.agent.call('stop_instance', uuid=uuid, timeout=timeout)

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


def host_memory_mb():
    """The host memory the agent counts (the kernel's MemTotal), in MiB."""
    for line in virsh('nodememstats').splitlines():
        if line.startswith('total'):
            return int(line.split()[2]) // 1024
    raise AssertionError('virsh nodememstats has no total')
