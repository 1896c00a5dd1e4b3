"""The image-source contract and its stevedore loader.

An image source turns an image reference (the ``ref`` of a disk spec's
``{"image": ref}``) into bytes on the compute node. It knows nothing of
formats beyond what a reference declares: the instance storage inspects
every fetched file before anything uses it, and caches it in ``_base/``
under the source's :meth:`ImageSource.identity` of the reference.

Sources are plugins in the ``computeagent.image_sources`` entry point
namespace; ``[image] source`` names the one to load. The core never
imports a source by name.
"""

import abc
import os
import re

from computeagent import plugins

NAMESPACE = 'computeagent.image_sources'

#: What an identity may look like: it names files in ``_base/``, so no
#: separators, no leading dot (the cache's own temp and lock files), and
#: short enough for any file system.
IDENTITY_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$')

# Declared formats by file name extension. ".img" says nothing (it is
# qcow2 for cirros and raw for many others), so it declares nothing.
_EXTENSION_FORMATS = {
    '.qcow2': 'qcow2',
    '.raw': 'raw',
    '.iso': 'raw',
}


class ImageSource(metaclass=abc.ABCMeta):
    """Base class of every image source.

    Implementations must be safe to call from many threads at once; the
    cache serialises fetches of one identity, not calls in general.
    """

    #: the entry point name, for messages
    name = None

    def __init__(self, conf):
        """:param conf: the oslo.config ConfigOpts to read options from."""
        self.conf = conf

    @abc.abstractmethod
    def identity(self, ref):
        """A stable cache key for the image ``ref`` names now.

        Two calls return the same key as long as the image's content is
        the same, and a different key when the content would differ.
        It must match :data:`IDENTITY_RE`. It must not fetch the image.

        :param ref: the image reference of a disk spec
        :returns: str
        :raises: ImageNotFound when ``ref`` resolves to nothing or is
            malformed
        """

    @abc.abstractmethod
    def fetch(self, ref, dest_path):
        """Write the image's bytes to ``dest_path``.

        ``dest_path`` does not exist yet; its directory does. On error the
        source may leave a partial file there; the caller removes it.

        :param ref: the image reference of a disk spec
        :param dest_path: the file to create
        :raises: ImageNotFound when it cannot be retrieved; ImageUnsafe
            when what was retrieved is not what ``ref`` promised (a
            checksum mismatch, larger than ``[image] max_image_size_mb``)
        """

    def local_path(self, ref):
        """A file on this host holding the image, readable in place.

        A dry run (render_instance) inspects it to learn the image's
        format and size without fetching anything. The default, for
        sources that must download, is None.

        :returns: an absolute path or None
        :raises: ImageNotFound
        """
        return None

    def declared_format(self, ref):
        """The format ``ref`` claims its image has, if it claims one.

        Inspection refuses an image whose content is of another format.
        The default reads the file name's extension: ``.qcow2`` declares
        qcow2, ``.raw`` and ``.iso`` declare raw, anything else nothing
        (the detected format is used, if it is qcow2 or raw).

        :returns: 'qcow2', 'raw' or None
        """
        return format_from_name(ref)


def format_from_name(name):
    """The format a file name's extension declares, or None."""
    _root, ext = os.path.splitext(name or '')
    return _EXTENSION_FORMATS.get(ext.lower())


def load_image_source(conf):
    """Load the image source named by ``[image] source``.

    :param conf: the ConfigOpts; it is passed to the source
    :returns: an :class:`ImageSource`
    :raises: DriverLoadError naming the installed sources
    """
    return plugins.load(NAMESPACE, conf.image.source, 'image source',
                        invoke_args=(conf,))
