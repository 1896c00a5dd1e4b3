"""Cache and aio modes of disks: what they are and their defaults.

docs/api.md: a disk's ``cache`` defaults to ``[disk] cachemodes``, then to what
an O_DIRECT probe of the instances path allows; its ``aio`` is chosen from
the cache mode, and ``native`` needs a cache mode that uses O_DIRECT.
The request schema and every driver state these rules through this
module, so they cannot drift apart.
"""

CACHE_MODES = ('none', 'writethrough', 'writeback', 'directsync', 'unsafe')
AIO_MODES = ('native', 'threads', 'io_uring')
#: cache modes with which QEMU opens the image with O_DIRECT
O_DIRECT_MODES = ('none', 'directsync')


def default_cache(direct_io):
    """The cache mode of a disk that names none (after ``cachemodes``).

    :param direct_io: whether the instances path supports O_DIRECT, or
        None if unknown (treated as unsupported)
    :returns: 'none' with O_DIRECT, else 'writethrough'
    """
    return 'none' if direct_io else 'writethrough'


def native_aio_allowed(cache):
    """Whether aio 'native' may go with cache mode ``cache``.

    Linux AIO is only asynchronous on files opened with O_DIRECT, and
    QEMU refuses 'native' without it.
    """
    return cache in O_DIRECT_MODES


def default_aio(cache, native=True):
    """The aio mode of a disk that names none, given its cache mode.

    :param cache: the disk's resolved cache mode
    :param native: whether the hypervisor uses Linux native AIO at all
    :returns: 'native' when allowed and the cache mode uses O_DIRECT,
        else 'threads'
    """
    return 'native' if native and native_aio_allowed(cache) else 'threads'
