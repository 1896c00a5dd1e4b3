import socket

from oslo_config import cfg

opts = [
    cfg.StrOpt('host',
               default=socket.gethostname(),
               sample_default='<hostname>',
               help='Name of this compute node. It is the RPC server name '
                    'that controllers address, appears in every instance '
                    'record and in the notification publisher id '
                    '(computeagent.<host>). One agent runs per host.'),
    cfg.StrOpt('rpc_topic',
               default='computeagent',
               help='RPC topic the agent listens on. Controllers send to '
                    'this topic with the host as server.'),
    cfg.StrOpt('instances_path',
               default='/var/lib/computeagent/instances',
               help='Directory holding one sub-directory per instance '
                    '(disks, console logs, the instance record) and the '
                    '_base cache of verified images. Nothing is written '
                    'outside it except logs.'),
    cfg.BoolOpt('instances_path_shared',
                default=False,
                help='instances_path is shared storage that other compute '
                     'hosts use too (NFS, a cluster filesystem), as live '
                     'migration on shared storage needs. Then the agent '
                     'loads and manages only the records naming its own '
                     'host, leaves other hosts\' instance directories '
                     'alone, never removes a directory that no record '
                     'names (it may be another host\'s create or delete '
                     'under way; it is logged), keeps its notification '
                     'outbox in .outbox.<host>, and its image-cache sweep '
                     'keeps every cached image that any host\'s instance '
                     'uses.'),
    cfg.IntOpt('report_interval',
               default=60, min=0,
               help='Seconds between compute.host.status notifications. '
                    '0 disables them.'),
    cfg.IntOpt('sync_power_state_interval',
               default=60, min=0,
               help='Seconds between reconciliation passes: unfinished '
                    'deletes and rollbacks are finished, every record\'s '
                    'state is synced with the hypervisor (the backstop for '
                    'missed lifecycle events) and guests and directories '
                    'of the agent that no record names are removed. 0 '
                    'runs passes only when the driver asks (after it '
                    'reconnected to its hypervisor).'),
    cfg.StrOpt('virt_driver',
               default='libvirt',
               help='The virt driver to load from the '
                    'computeagent.virt_drivers entry point namespace, '
                    'for example "libvirt" or "fake".'),
    cfg.IntOpt('max_concurrent_builds',
               min=1, sample_default='2 x the host\'s CPUs',
               help='Most instance creates built at the same time; '
                    'further creates wait for a free slot. Unset, twice '
                    'the CPUs the agent may run on: starting guests is '
                    'CPU work, and measured on a 2-CPU host creates per '
                    'second grew up to 4 or 5 at once and no further '
                    '(bench-results/). Raise it where images are fetched '
                    'over a slow network.'),
    cfg.FloatOpt('ram_allocation_ratio',
                 default=1.0, min=0.1,
                 help='Virtual memory that may be given to instances per '
                      'MiB of host memory not reserved: instances may '
                      'have (host memory - reserved_host_memory_mb) * '
                      'ram_allocation_ratio MiB in all, counting every '
                      'instance record whatever its state. A create '
                      'beyond it fails with InsufficientResources.'),
    cfg.IntOpt('reserved_host_memory_mb',
               default=512, min=0,
               help='Host memory (MiB) kept for the host itself and never '
                    'given to instances.'),
    cfg.FloatOpt('disk_allocation_ratio',
                 default=1.0, min=0.1,
                 help='Virtual disk that may be given to instances per '
                      'MiB of the filesystem holding instances_path, '
                      'after reserved_host_disk_mb: (size - reserved) * '
                      'disk_allocation_ratio MiB in all. A disk counts at '
                      'its size_mb, or else its image\'s virtual size '
                      'once the image is cached (thin qcow2 overlays and '
                      'sparse files count at the size they may grow '
                      'to). Above 1.0 overcommits the filesystem. A '
                      'create beyond it fails with '
                      'InsufficientResources.'),
    cfg.IntOpt('reserved_host_disk_mb',
               default=0, min=0,
               help='Disk (MiB) of the filesystem holding instances_path '
                    'that is never given to instances: room for the '
                    'host\'s own files and the _base image cache, which '
                    'is shared by instances and not counted per '
                    'instance.'),
    cfg.FloatOpt('cpu_allocation_ratio',
                 default=16.0, min=0.0,
                 help='Virtual CPUs that may be given to instances per '
                      'host CPU, as in nova: host CPUs * '
                      'cpu_allocation_ratio vCPUs in all. A create beyond '
                      'it fails with InsufficientResources. 0 turns the '
                      'vCPU check off.'),
    cfg.IntOpt('rpc_workers',
               default=64, min=1,
               help='Size of the RPC server thread pool (threading '
                    'executor): how many requests are handled at once. '
                    'Creates have a pool of the same size of their own, '
                    'so that they never hold up other requests; of '
                    'those, max_concurrent_builds build at once.'),
    cfg.IntOpt('graceful_shutdown_timeout',
               default=60, min=0,
               help='Seconds to wait on SIGTERM or SIGINT for requests in '
                    'flight to finish before the agent exits anyway. 0 '
                    'waits for as long as they take.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
