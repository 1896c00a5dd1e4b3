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
