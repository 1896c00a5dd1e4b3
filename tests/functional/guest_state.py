"""What libvirt says of a guest, read with virsh: state, id, managed save.

The lifecycle tests check these, the hypervisor's own view, beside the
agent's records.
"""

import os

from tests.functional import libvirt_helpers as lh

#: where libvirt's QEMU driver keeps managed save images
SAVE_DIR = '/var/lib/libvirt/qemu/save'


def domain_name(uuid):
    return 'instance-%s' % uuid


def domstate(uuid):
    """``virsh domstate --reason``: e.g. ('running', 'booted').

    :returns: (state, reason)
    """
    text = lh.virsh('domstate', '--reason', uuid).strip()
    state, _, reason = text.partition(' (')
    return state, reason.rstrip(')')


def domid(uuid):
    """The running domain's id (a new one each time QEMU starts), or '-'."""
    return lh.virsh('domid', uuid).strip()


def dominfo(uuid):
    """``virsh dominfo`` as a dict of its fields."""
    info = {}
    for line in lh.virsh('dominfo', uuid).splitlines():
        key, sep, value = line.partition(':')
        if sep:
            info[key.strip()] = value.strip()
    return info


def listed_state(uuid):
    """The state ``virsh list --all --managed-save`` shows, or None.

    With ``--managed-save`` a shut-off domain that has a managed save
    image is listed as "saved".
    """
    for line in lh.virsh('list', '--all', '--managed-save').splitlines():
        fields = line.split(None, 2)
        if len(fields) == 3 and fields[1] == domain_name(uuid):
            return fields[2].strip()
    return None


def with_managed_save():
    """UUIDs of ``virsh list --all --with-managed-save``."""
    return set(lh.virsh('list', '--all', '--with-managed-save',
                        '--uuid').split())


def managed_save_file(uuid):
    return os.path.join(SAVE_DIR, domain_name(uuid) + '.save')


def qemu_block_files(uuid):
    """The image files QEMU itself has open for the guest (``info block``).

    The live XML is what libvirt believes; this is the running QEMU's
    own answer.
    """
    files = set()
    for line in lh.hmp(uuid, 'info block').splitlines():
        # "<node>: <file> (<format>)" or "<node>: [not inserted]"
        _node, sep, rest = line.partition(': ')
        if sep and rest.startswith('/'):
            files.add(rest.rsplit(' (', 1)[0])
    return files


def disk_targets(domain):
    """The target devs of a parsed domain XML's disks."""
    return [d.find('target').get('dev')
            for d in domain.findall('devices/disk')]
