"""Builds the Linux test guest of tests/linux_guest.py from Debian packages.

It is made without root, mount or loop device, and nothing is installed
on the host: ``apt-get download`` fetches the Debian packages (the cloud
kernel of :data:`KERNEL_METAPACKAGE` and :data:`PACKAGES`: busybox,
syslinux, mtools, dosfstools, cpio) and ``dpkg-deb -x`` unpacks them. An
initramfs (gzip newc cpio) of busybox, the guest's kernel modules and its
/init goes with the kernel onto a FAT16 superfloppy that ``syslinux
--install`` makes bootable; SeaBIOS boots it from a virtio-blk disk.

Builds are cached under :func:`cache_dir`, keyed by a hash of the recipe
(this file and tests/linux_guest.py) and the package versions apt
offers: the first build takes seconds, later ones only the version
look-up. Concurrent test processes take a lock and build into a
temporary directory renamed into place, so none sees half a build.
"""

import fcntl
import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile

from tests import linux_guest

#: the Debian packages the guest is made of; the kernel comes from the
#: metapackage's dependency
KERNEL_METAPACKAGE = 'linux-image-cloud-amd64'
PACKAGES = ('busybox-static', 'syslinux', 'syslinux-common', 'mtools',
            'dosfstools', 'cpio')
#: the boot disk's size; the kernel alone is some 14 MB
DISK_MB = 32

_CACHE_ENV = 'COMPUTEAGENT_TEST_CACHE'


class GuestImage(object):
    """A built guest: ``disk`` is its raw boot disk.

    :param directory: the build's directory in the cache
    """

    def __init__(self, directory):
        self.directory = directory
        self.disk = os.path.join(directory, 'disk.img')
        with open(os.path.join(directory, 'manifest.json')) as f:
            self.manifest = json.load(f)


def cache_dir():
    """Where builds and downloaded packages are kept between test runs.

    ``$COMPUTEAGENT_TEST_CACHE`` if set (tox passes COMPUTEAGENT_*), else
    ``computeagent-tests`` under ``$XDG_CACHE_HOME`` or ``~/.cache``.
    """
    if os.environ.get(_CACHE_ENV):
        return os.environ[_CACHE_ENV]
    base = (os.environ.get('XDG_CACHE_HOME')
            or os.path.join(os.path.expanduser('~'), '.cache'))
    return os.path.join(base, 'computeagent-tests')


def _run(cmd, **kwargs):
    """Run a command; its output in the error if it fails.

    :returns: its stdout, text
    :raises: RuntimeError
    """
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError('%s failed (%d): %s%s' % (
            ' '.join(cmd), result.returncode, result.stdout, result.stderr))
    return result.stdout


def _apt_show(names):
    """``apt-cache show`` of the candidates: {package: stanza dict}."""
    result = subprocess.run(
        ['apt-cache', 'show', '--no-all-versions'] + list(names),
        capture_output=True, text=True)
    stanzas = {}
    for block in result.stdout.split('\n\n'):
        fields = dict(re.findall(r'^([\w-]+): (.*)$', block, re.M))
        if 'Package' in fields:
            stanzas[fields['Package']] = fields
    return stanzas


def resolve_packages():
    """The exact packages to build from: {name: version}.

    A fresh machine's apt has no lists yet: then ``apt-get update`` runs
    once (as root; CI and developers are root here).

    :raises: RuntimeError if apt does not know a package
    """
    names = (KERNEL_METAPACKAGE,) + PACKAGES
    stanzas = _apt_show(names)
    if set(names) - set(stanzas):
        _run(['apt-get', 'update', '-qq'])
        stanzas = _apt_show(names)
    missing = set(names) - set(stanzas)
    if missing:
        raise RuntimeError('apt knows no package %s' % ', '.join(
            sorted(missing)))
    kernel = re.search(r'(linux-image-\S+-cloud-amd64) \(= ([^)]+)\)',
                       stanzas[KERNEL_METAPACKAGE].get('Depends', ''))
    if kernel is None:
        raise RuntimeError('%s names no kernel: %r' % (
            KERNEL_METAPACKAGE, stanzas[KERNEL_METAPACKAGE]))
    wanted = {kernel.group(1): kernel.group(2)}
    for name in PACKAGES:
        wanted[name] = stanzas[name]['Version']
    return wanted


def recipe_key(packages):
    """The cache key: the recipe's sources and the package versions."""
    digest = hashlib.sha256()
    for module in (__file__, linux_guest.__file__):
        with open(module, 'rb') as f:
            digest.update(f.read())
    digest.update(json.dumps(packages, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _deb_path(debs, name, version):
    """The downloaded .deb of that version, or None.

    apt names it ``<name>_<version, ':' as %3a>_<arch>.deb``.
    """
    found = glob.glob(os.path.join(debs, '%s_%s_*.deb' % (
        glob.escape(name), glob.escape(version.replace(':', '%3a')))))
    return found[0] if found else None


def download(packages, debs):
    """``apt-get download`` what is not in ``debs`` yet.

    :returns: the .deb paths, in ``packages`` order
    """
    os.makedirs(debs, exist_ok=True)
    missing = ['%s=%s' % item for item in sorted(packages.items())
               if _deb_path(debs, *item) is None]
    if missing:
        # As root, apt's sandbox user could not write here.
        _run(['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root']
             + missing, cwd=debs)
    paths = []
    for name, version in packages.items():
        path = _deb_path(debs, name, version)
        if path is None:
            raise RuntimeError('apt-get download left no %s %s in %s'
                               % (name, version, debs))
        paths.append(path)
    return paths


def _initramfs(root, kernel_release, work):
    """The gzip newc cpio of busybox, the modules and /init.

    :returns: its path
    """
    tree = os.path.join(work, 'initramfs')
    for sub in ('bin', 'lib/modules', 'dev', 'proc', 'sys'):
        os.makedirs(os.path.join(tree, sub))
    shutil.copy(os.path.join(root, 'bin', 'busybox'),
                os.path.join(tree, 'bin', 'busybox'))
    module_dir = os.path.join(root, 'lib', 'modules', kernel_release)
    for module in linux_guest.MODULES:
        found = glob.glob(os.path.join(module_dir, '**', module + '.ko'),
                          recursive=True)
        if len(found) != 1:
            raise RuntimeError('module %s: found %r' % (module, found))
        shutil.copy(found[0], os.path.join(tree, 'lib', 'modules'))
    init = os.path.join(tree, 'init')
    with open(init, 'w') as f:
        f.write(linux_guest.INIT)
    os.chmod(init, 0o755)
    names = []
    for top, dirs, files in os.walk(tree):
        dirs.sort()
        for name in sorted(dirs + files):
            names.append(os.path.relpath(os.path.join(top, name), tree))
    archive = _run_bytes([os.path.join(root, 'bin', 'cpio'), '--quiet',
                          '-o', '-H', 'newc', '-R', '0:0'],
                         ('\n'.join(names) + '\n').encode(), cwd=tree)
    path = os.path.join(work, 'initrd.gz')
    with open(path, 'wb') as raw:
        with gzip.GzipFile(fileobj=raw, mode='wb', mtime=0) as f:
            f.write(archive)
    return path


def _run_bytes(cmd, stdin, **kwargs):
    result = subprocess.run(cmd, input=stdin, capture_output=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError('%s failed (%d): %r' % (
            ' '.join(cmd), result.returncode, result.stderr))
    return result.stdout


def _boot_disk(root, kernel, initrd, work):
    """The FAT16 superfloppy with kernel, initramfs and syslinux.

    :returns: its path
    """
    disk = os.path.join(work, 'disk.img')
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1', PATH=os.pathsep.join(
        [os.path.join(root, 'usr', 'bin'), os.path.join(root, 'sbin'),
         os.environ.get('PATH', '')]))
    cfg = os.path.join(work, 'syslinux.cfg')
    with open(cfg, 'w') as f:
        f.write(linux_guest.SYSLINUX_CFG)
    _run([os.path.join(root, 'sbin', 'mkfs.fat'), '-C', '-F', '16',
          '-n', 'CAGUEST', '-i', '0ca9e575', disk, str(DISK_MB * 1024)],
         env=env)
    for source, name in ((kernel, 'vmlinuz'), (initrd, 'initrd.gz'),
                         (cfg, 'syslinux.cfg')):
        _run([os.path.join(root, 'usr', 'bin', 'mcopy'), '-i', disk,
              source, '::' + name], env=env)
    # The mtools variant of the installer: it runs mattrib and mcopy from
    # PATH, and needs no mount.
    _run([os.path.join(root, 'usr', 'bin', 'syslinux'), '--install', disk],
         env=env)
    return disk


def _build(packages, debs, target):
    """Build into a temporary directory, then rename it to ``target``."""
    parent = os.path.dirname(target)
    work = tempfile.mkdtemp(prefix='.build-', dir=parent)
    try:
        root = os.path.join(work, 'root')
        for deb in download(packages, debs):
            _run(['dpkg-deb', '-x', deb, root])
        kernels = glob.glob(os.path.join(root, 'boot', 'vmlinuz-*'))
        if len(kernels) != 1:
            raise RuntimeError('kernels in the package: %r' % kernels)
        release = os.path.basename(kernels[0])[len('vmlinuz-'):]
        initrd = _initramfs(root, release, work)
        _boot_disk(root, kernels[0], initrd, work)
        shutil.rmtree(root)
        shutil.rmtree(os.path.join(work, 'initramfs'))
        with open(os.path.join(work, 'manifest.json'), 'w') as f:
            json.dump({'packages': packages, 'kernel_release': release,
                       'modules': list(linux_guest.MODULES)}, f, indent=1,
                      sort_keys=True)
        # QEMU reads the copy the agent makes, but tests may hand the
        # file on to other users.
        os.chmod(work, 0o755)
        os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


_built = {}


def build(directory=None):
    """The guest image, built unless the cache has it.

    Safe to call from concurrent processes: the first builds under a lock
    file, the others wait for it and use its build.

    :param directory: the cache directory; default :func:`cache_dir`
    :returns: a :class:`GuestImage`
    :raises: RuntimeError if a tool or apt fails
    """
    directory = directory or cache_dir()
    if directory in _built:
        return _built[directory]
    os.makedirs(directory, exist_ok=True)
    packages = resolve_packages()
    target = os.path.join(directory, 'linux-guest-' + recipe_key(packages))
    if not os.path.isdir(target):
        with open(os.path.join(directory, 'linux-guest.lock'), 'a') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.isdir(target):
                _build(packages, os.path.join(directory, 'debs'), target)
    _built[directory] = GuestImage(target)
    return _built[directory]
