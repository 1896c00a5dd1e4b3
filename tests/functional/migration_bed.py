"""Two libvirtd and virtlogd pairs on this machine to live-migrate between.

:class:`MigrationBed` is two :class:`PrivateLibvirtd` fixtures, ``a``
and ``b`` (each in its own mount namespace, each with a libvirtd.conf of
its own holding a host UUID of its own: libvirt refuses to migrate to a
daemon reporting the same host UUID), and what live migration between
them needs:

- ``shared_dir``: a directory both daemons, their QEMU processes and
  virtlogds see at the same path (under /tmp, outside the paths each
  daemon bind-mounts privately; 0755 so QEMU, running as libvirt-qemu,
  can reach the files in it). Guests' disks and serial logs go there,
  as the agents' instances path will. libvirt does not take a local
  directory for shared storage ("Migration without shared storage is
  unsafe"), hence ``VIR_MIGRATE_UNSAFE`` in :data:`FLAGS`.
- ``migrate_uri``: where the migration data goes,
  ``unix://<shared_dir>/migration/mig.sock``, a socket the destination's
  QEMU creates and listens on: no TCP port to pick, and no network
  namespace is needed. QEMU runs as the user of libvirt's DAC base label
  (libvirt-qemu here), and libvirt does not label the socket's directory
  for it ("Failed to bind socket ...: Permission denied" in a root's
  0755 one), so ``migration/`` is QEMU's user's.
- ``a.uri``, ``b.uri``: ``qemu+unix:///system?socket=...``, what a
  client (or an agent's ``[libvirt] connection_uri``) connects to, and
  the ``dest_uri`` a peer-to-peer migration gives the source daemon,
  which connects to the destination itself.

A live migration of a running domain ``dom`` of ``a`` to ``b``::

    dom.migrateToURI3(bed.b.uri,
                      {libvirt.VIR_MIGRATE_PARAM_URI: bed.migrate_uri},
                      migration_bed.FLAGS)

(:meth:`MigrationBed.migrate` does that): live, peer to peer, the
domain defined on the destination and undefined on the source. Give
domains names unique to the test: the two daemons number their domains
from 1 alike and would otherwise share cgroup names.

Each daemon's cleanup destroys and undefines its domains, then stops it;
the shared directory goes after both.
"""

import os
from xml.etree import ElementTree

import fixtures
import libvirt

from tests.functional import private_libvirtd

#: live, peer to peer (the source daemon talks to the destination),
#: unsafe (see above), persistent on the destination and undefined on
#: the source once the guest runs there
FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
         libvirt.VIR_MIGRATE_UNSAFE | libvirt.VIR_MIGRATE_PERSIST_DEST |
         libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)


class MigrationBed(fixtures.Fixture):
    """Two private libvirtds, a shared directory and a migration URI.

    :ivar a: the first PrivateLibvirtd (``uri``, ``host_uuid``, ``dir``,
        ``virsh()``, ``restart_libvirtd()``...)
    :ivar b: the second
    :ivar daemons: (a, b)
    :ivar shared_dir: the directory both see at the same path
    :ivar migrate_uri: the data URI of migrations, a unix socket in
        ``shared_dir``/migration
    """

    def _setUp(self):
        # First, so that it is removed after both daemons are gone.
        self.shared_dir = self.useFixture(fixtures.TempDir()).path
        os.chmod(self.shared_dir, 0o755)
        self.a = self.useFixture(private_libvirtd.PrivateLibvirtd())
        self.b = self.useFixture(private_libvirtd.PrivateLibvirtd())
        self.daemons = (self.a, self.b)
        socket_dir = os.path.join(self.shared_dir, 'migration')
        os.mkdir(socket_dir, 0o700)
        os.chown(socket_dir, *_qemu_ids(self.a))
        self.migrate_uri = 'unix://' + os.path.join(socket_dir, 'mig.sock')

    def other(self, daemon):
        """The daemon that is not ``daemon``."""
        return self.b if daemon is self.a else self.a

    def connect(self, daemon):
        """A libvirt connection to ``daemon``, closed at cleanup."""
        conn = libvirt.open(daemon.uri)
        self.addCleanup(_close_quietly, conn)
        return conn

    def migrate(self, domain, dest, flags=FLAGS, params=None):
        """Live-migrate ``domain`` (of the other daemon) to ``dest``.

        Returns once the guest runs on ``dest``.

        :param domain: a virDomain of the source daemon's connection
        :param dest: the destination PrivateLibvirtd
        :param params: more migration parameters, e.g.
            VIR_MIGRATE_PARAM_BANDWIDTH
        """
        all_params = {libvirt.VIR_MIGRATE_PARAM_URI: self.migrate_uri}
        all_params.update(params or {})
        domain.migrateToURI3(dest.uri, all_params, flags)


def _qemu_ids(daemon):
    """(uid, gid) QEMU runs as: the DAC base label of TCG domains."""
    caps = ElementTree.fromstring(daemon.virsh('capabilities'))
    for model in caps.findall('host/secmodel'):
        if model.findtext('model') == 'dac':
            label = model.find("baselabel[@type='qemu']").text
            # "+64055:+64055": numeric ids, "+" saying so
            uid, gid = label.split(':')
            return int(uid.lstrip('+')), int(gid.lstrip('+'))
    raise AssertionError('libvirtd reports no DAC security model')


def _close_quietly(conn):
    try:
        conn.close()
    except libvirt.libvirtError:
        pass  # its daemon is gone already: nothing left to close
