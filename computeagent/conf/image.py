from oslo_config import cfg

GROUP = cfg.OptGroup('image', title='Image source options')

opts = [
    cfg.StrOpt('source',
               default='directory',
               help='The image source to load from the '
                    'computeagent.image_sources entry point namespace: '
                    '"directory" (files in [image] directory) or "http" '
                    '(downloads from [image] http_base_url, each checked '
                    'against a sha256 checksum).'),
    cfg.StrOpt('directory',
               default='/var/lib/computeagent/images',
               help='Directory the "directory" image source resolves image '
                    'references in. A reference never resolves outside '
                    'it.'),
    cfg.URIOpt('http_base_url',
               schemes=['http', 'https'],
               help='Base URL the "http" image source fetches image '
                    'references from.'),
    cfg.IntOpt('http_timeout',
               default=60, min=1,
               help='Seconds the "http" image source waits on the server.'),
    cfg.IntOpt('cache_sweep_interval',
               default=2400, min=0,
               help='Seconds between sweeps of the _base image cache, '
                    'which remove the cached images no instance has used '
                    'for unused_base_min_age seconds. 0: never sweep.'),
    cfg.IntOpt('unused_base_min_age',
               default=86400, min=0,
               help='Seconds a cached image is kept after its last use '
                    '(or its fetch), so that instances created again soon '
                    'after find it cached.'),
    cfg.IntOpt('max_image_size_mb',
               default=20480, min=1,
               help='Largest image (MiB, virtual or file size) the agent '
                    'accepts.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
