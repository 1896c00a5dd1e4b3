"""A libvirtd (and virtlogd) of a test's own, which it may restart.

Restarting the system libvirtd would break every other test running at
the same time, so a test that restarts libvirtd gets daemons of its own:
privileged ones, like the system's, each started in a private mount
namespace (``unshare -m``) where bind mounts give it its own
``/run/libvirt`` (sockets, domain state), ``/etc/libvirt/qemu`` (no
persistent domain or network of the system's), ``/var/lib/libvirt``,
``/var/cache/libvirt`` and ``/var/log/libvirt``. Its pid files are named
on the command line, so nothing of the system daemons' is touched. The
directories outlive the daemons, so a libvirtd started again finds the
domains and the running QEMU processes of the one before, as after a
real restart.

Each libvirtd reads a ``libvirtd.conf`` of its own (``-f``): the
system's settings plus a ``host_uuid``, a new one per fixture unless
given. libvirt refuses to migrate a guest between daemons that report
the same host UUID ("Attempt to migrate guest to the same host"). The
daemons of one real machine all report its SMBIOS UUID; these VMs have
no DMI data, so each daemon would invent one, but two private daemons
migrating to each other should not count on that.

The private ``/var/cache/libvirt`` starts with a copy of the system's
QEMU capabilities cache, if it has one: probing QEMU anew took 8 s of
each daemon's start here. libvirtd checks what it finds there (QEMU's
and its own binary, the kernel...) and probes again if it is stale.

Clients reach it at ``qemu+unix:///system?socket=<dir>/run/libvirt-sock``.
"""

import os
import shutil
import signal
import subprocess
import time
import uuid as uuid_mod

import fixtures

# Mount point -> the name of its private copy under the fixture's dir.
_BINDS = (('/run/libvirt', 'run'),
          ('/etc/libvirt/qemu', 'etc-qemu'),
          ('/var/lib/libvirt', 'lib'),
          ('/var/cache/libvirt', 'cache'),
          ('/var/log/libvirt', 'log'))
_POLL = 0.1
#: the system's libvirtd.conf, whose settings the private daemons keep
SYSTEM_CONF = '/etc/libvirt/libvirtd.conf'
#: the system libvirtd's QEMU capabilities cache, under /var/cache/libvirt
CAPS_CACHE = 'qemu/capabilities'


def _alive(pid):
    """Whether a process that is not our child still runs.

    The daemons forked away from us, so there is no waitpid; an exited
    one may linger as a zombie until init reaps it.
    """
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, ProcessLookupError):
        return False


def _conf_text(host_uuid):
    """The system's libvirtd.conf with ``host_uuid`` set to ours."""
    try:
        with open(SYSTEM_CONF) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    # The last setting of a name wins in libvirt's parser, but an
    # earlier one of the system's would be confusing to read here.
    lines = [line for line in lines
             if line.split('=', 1)[0].strip() != 'host_uuid']
    lines.append('host_uuid = "%s"' % host_uuid)
    return '\n'.join(lines) + '\n'


class PrivateLibvirtd(fixtures.Fixture):
    """virtlogd and libvirtd of one test; ``uri`` reaches them.

    :ivar host_uuid: the UUID libvirtd reports for its host
    :ivar conf: its libvirtd.conf
    """

    def __init__(self, host_uuid=None):
        """:param host_uuid: the host UUID; default a new uuid4"""
        super().__init__()
        self.host_uuid = str(host_uuid or uuid_mod.uuid4())

    def _setUp(self):
        self.dir = self.useFixture(fixtures.TempDir()).path
        os.chmod(self.dir, 0o755)
        for _mount, name in _BINDS:
            os.mkdir(os.path.join(self.dir, name), 0o755)
        self._seed_caps_cache()
        self.conf = os.path.join(self.dir, 'libvirtd.conf')
        with open(self.conf, 'w') as f:
            f.write(_conf_text(self.host_uuid))
        self.uri = ('qemu+unix:///system?socket=%s'
                    % os.path.join(self.dir, 'run', 'libvirt-sock'))
        self.virtlogd = self._daemon('virtlogd')
        self.addCleanup(self._kill, 'virtlogd')
        self.addCleanup(self._kill, 'libvirtd')
        self.addCleanup(self.remove_domains)
        self.libvirtd = self._daemon('libvirtd')
        self.wait_ready()

    def _seed_caps_cache(self):
        """Copy the system's QEMU capabilities cache into ours (see above).

        Before this fixture's libvirtd starts. The system's libvirtd
        writes its cache files whole (a new file renamed over the old),
        so the copy holds no half-written one.
        """
        system = os.path.join('/var/cache/libvirt', CAPS_CACHE)
        if os.path.isdir(system):
            shutil.copytree(system, os.path.join(self.dir, 'cache',
                                                 CAPS_CACHE))

    def _pid_file(self, name):
        return os.path.join(self.dir, '%s.pid' % name)

    def _daemon(self, name):
        """Start ``name -d`` in a mount namespace of its own; its pid."""
        script = ''.join('mount --bind %s %s && ' % (
            os.path.join(self.dir, copy), mount) for mount, copy in _BINDS)
        script += 'exec %s -d -p %s' % (name, self._pid_file(name))
        if name == 'libvirtd':
            script += ' -f %s' % self.conf
        try:
            os.unlink(self._pid_file(name))  # the last run's
        except FileNotFoundError:
            pass
        subprocess.run(['unshare', '-m', '--propagation', 'private', 'sh',
                        '-c', script], check=True, timeout=60)
        deadline = time.monotonic() + 30
        while True:
            try:
                with open(self._pid_file(name)) as f:
                    return int(f.read().strip())
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    raise AssertionError('%s wrote no pid file' % name)
                time.sleep(_POLL)

    def virsh(self, *args, check=True):
        result = subprocess.run(['virsh', '-q', '-c', self.uri] + list(args),
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError('virsh %s failed: %s'
                                 % (' '.join(args), result.stderr))
        return result.stdout

    def wait_ready(self, timeout=60):
        """Until libvirtd answers on its socket."""
        deadline = time.monotonic() + timeout
        while self.virsh('version', check=False) == '':
            if time.monotonic() > deadline:
                raise AssertionError('the private libvirtd did not answer '
                                     'within %s s' % timeout)
            time.sleep(_POLL)

    def restart_libvirtd(self):
        """SIGTERM libvirtd, wait for it to exit, start it again, wait."""
        self.stop_libvirtd(signal.SIGTERM)
        self.start_libvirtd()

    def stop_libvirtd(self, sig=signal.SIGKILL):
        """Send libvirtd ``sig`` and wait until it has exited."""
        self._stop(self.libvirtd, sig)

    def start_libvirtd(self):
        """Start libvirtd again and wait until it answers."""
        self.libvirtd = self._daemon('libvirtd')
        self.wait_ready()

    @staticmethod
    def _stop(pid, sig, timeout=60):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                raise AssertionError('process %d did not exit' % pid)
            time.sleep(_POLL)

    def _kill(self, name):
        pid = getattr(self, name, None)
        if pid is not None:
            self._stop(pid, signal.SIGTERM)

    def remove_domains(self):
        """Destroy and undefine every domain (QEMU outlives libvirtd)."""
        for uuid in self.virsh('list', '--all', '--uuid',
                               check=False).split():
            self.virsh('destroy', uuid, check=False)
            self.virsh('undefine', '--managed-save', uuid, check=False)
