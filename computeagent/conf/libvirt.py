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
    cfg.IntOpt('soft_reboot_timeout',
               default=120, min=0,
               help='Seconds a soft reboot waits for the guest to reboot '
                    'after the ACPI power button before resetting it (a '
                    'hard reboot). Guests without ACPI support (such as '
                    'bare boot sectors) always end in the reset, so tests '
                    'set this low. 0 resets at once.'),
    cfg.FloatOpt('power_poll_interval',
                 default=0.5, min=0.01,
                 help='Seconds between checks of a guest\'s state while '
                      'waiting for it to shut down, reboot or release a '
                      'detached disk. An event from libvirt (lifecycle, '
                      'reboot, device removed) ends each wait sooner; the '
                      'poll is the backstop for missed events.'),
    cfg.FloatOpt('device_detach_timeout',
                 default=20, min=0,
                 help='Seconds detach_disk waits for a running guest to '
                      'release the disk (libvirt\'s device-removed event, '
                      'or the disk gone from the live domain) before '
                      'failing with DriverError: the disk then stays '
                      'attached, with its files, until the guest releases '
                      'it (a retry finishes the detach) or stops (which '
                      'finishes it). Guests without hot-unplug support '
                      '(such as bare boot sectors) never release it, so '
                      'tests set this low. libvirt itself waits up to 5 s '
                      'within the request.'),
    cfg.IntOpt('block_commit_timeout',
               default=600, min=1,
               help='Seconds commit_disk waits for libvirt\'s block '
                    'commit job to merge a snapshot disk\'s overlay into '
                    'its disk file before aborting the job (the disk is '
                    'left as it was) and failing with DriverError.'),
    cfg.FloatOpt('reconnect_timeout',
                 default=60, min=0,
                 help='Seconds a request that needs libvirtd waits for it '
                      'while it is unreachable (restarting) before failing '
                      'with DriverError; the agent retries the connection '
                      'with a growing pause of at most 1 s. Also how long '
                      'the agent waits for libvirtd at start. 0 fails at '
                      'once.'),
    cfg.StrOpt('live_migration_uri',
               default='qemu+tls://{host}/system',
               help='How the libvirtd of another host reaches this host\'s '
                    'to bring a guest here in a live migration (peer to '
                    'peer); "{host}" stands for [DEFAULT] host. Told to '
                    'the source when it asks this host to prepare.'),
    cfg.StrOpt('live_migration_data_uri',
               help='Where QEMU on the source sends the guest\'s memory '
                    'to reach this host, e.g. tcp://10.0.0.5 or '
                    'unix:///<shared dir>/mig.sock; "{host}" stands for '
                    '[DEFAULT] host. Unset: libvirt\'s choice (this '
                    'host\'s name as the destination\'s libvirtd '
                    'knows it).'),
    cfg.BoolOpt('live_migration_unsafe',
                default=False,
                help='Migrate even when libvirt does not recognise the '
                     'instances path as shared storage (libvirt knows NFS, '
                     'GlusterFS, Ceph and a few more; a directory shared '
                     'by other means looks local to it). Only with '
                     '[DEFAULT] instances_path_shared and storage that '
                     'really is shared, with cache modes that write '
                     'through.'),
    cfg.IntOpt('live_migration_timeout',
               default=600, min=1,
               help='Seconds a live migration may take before it is '
                    'aborted (the guest stays on the source; '
                    'MigrationFailed). A guest that writes its memory '
                    'faster than the network carries it never finishes.'),
    cfg.FloatOpt('block_job_poll_interval',
                 default=0.05, min=0.01,
                 help='Seconds between progress checks of a block commit '
                      'job.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
