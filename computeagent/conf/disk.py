from oslo_config import cfg

GROUP = cfg.OptGroup('disk', title='Instance disk options')

opts = [
    cfg.StrOpt('default_format',
               default='qcow2', choices=('qcow2', 'raw'),
               help='Format of an instance disk whose spec names none. '
                    'qcow2 disks are overlays on the cached base image; '
                    'raw disks are full copies.'),
    cfg.IntOpt('max_disks',
               default=16, min=1, max=64,
               help='Most disks one instance may have.'),
    cfg.ListOpt('cachemodes',
                default=[],
                help='Default cache mode per disk type, as nova\'s '
                     '"type=mode" pairs, for example "file=none,'
                     'block=writeback". Types: file, block, network. '
                     'Modes: none, writethrough, writeback, directsync, '
                     'unsafe. A disk spec\'s own cache wins; with no '
                     'default here, "none" is used when the instances '
                     'path supports O_DIRECT and "writethrough" where it '
                     'does not (tmpfs).'),
    cfg.ListOpt('host_cdrom_devices',
                default=[],
                help='Host cdrom drives (absolute paths of block devices, '
                     'e.g. /dev/sr0) that a cdrom disk spec may name as '
                     'its source {"host_device": path}, as QEMU\'s '
                     '"-cdrom /dev/cdrom". Empty: none may be used. A '
                     'guest using one reads the host\'s drive directly; '
                     'the agent never copies, caches or removes it.'),
    cfg.IntOpt('qemu_img_cpu_seconds',
               default=30, min=1,
               help='CPU time limit of one qemu-img process, so a '
                    'malicious image cannot tie up the host.'),
    cfg.IntOpt('qemu_img_address_space_mb',
               default=1024, min=64,
               help='Address-space limit (MiB) of one qemu-img process.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
