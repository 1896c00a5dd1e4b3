from oslo_config import cfg

GROUP = cfg.OptGroup('libvirt', title='libvirt driver options')

opts = [
    cfg.StrOpt('connection_uri',
               default='qemu:///system',
               help='libvirt connection URI of the hypervisor. Unit tests '
                    'use test:///<path>/node.xml.'),
    cfg.StrOpt('virt_type',
               default='kvm', choices=('kvm', 'qemu'),
               help='Domain type: "kvm" for hardware virtualisation, '
                    '"qemu" for TCG emulation (works without /dev/kvm).'),
    cfg.StrOpt('emulator',
               help='Path of the QEMU binary; unset lets libvirt choose '
                    'from the host capabilities.'),
    cfg.StrOpt('machine_type',
               default='pc',
               help='Guest machine type (pc is i440fx, q35 has no IDE '
                    'bus).'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
