"""Loading of plugins by entry point, with start-up errors that help.

Config names the one plugin to load; an unknown or broken name is a
:class:`~computeagent.exception.DriverLoadError` listing the installed
alternatives (ironic's discipline), never a bare ImportError.
"""

from importlib import metadata as importlib_metadata
from oslo_log import log as logging
from stevedore import driver as stevedore_driver

from computeagent import exception

LOG = logging.getLogger(__name__)


def installed(namespace):
    """Names of the plugins installed under an entry point namespace.

    Read from the entry points without importing the plugins: a plugin
    that is installed but cannot be imported is still named (loading it
    says why it fails), and listing never runs plugin code.
    """
    return sorted({ep.name for ep in
                   importlib_metadata.entry_points(group=namespace)})


def load(namespace, name, kind, invoke_args=()):
    """Load and instantiate the plugin ``name`` of ``namespace``.

    :param namespace: entry point namespace, e.g. computeagent.virt_drivers
    :param name: the configured plugin name
    :param kind: what it is, for the error message ("virt driver")
    :param invoke_args: positional arguments for the plugin's constructor
    :returns: the plugin instance
    :raises: DriverLoadError naming the installed plugins
    """
    def _on_failure(manager, entrypoint, error):
        # stevedore swallows the cause by default; keep it for the message.
        raise exception.DriverLoadError(kind=kind, name=name,
                                        reason=str(error) or repr(error),
                                        available=_names(namespace))

    try:
        mgr = stevedore_driver.DriverManager(
            namespace, name, invoke_on_load=True,
            invoke_args=tuple(invoke_args),
            on_load_failure_callback=_on_failure)
    except exception.DriverLoadError:
        raise
    except Exception as error:  # NoMatches and friends
        raise exception.DriverLoadError(
            kind=kind, name=name,
            reason='no such plugin' if 'No ' in str(error) else str(error),
            available=_names(namespace))
    LOG.info('Loaded %(kind)s %(name)s', {'kind': kind, 'name': name})
    return mgr.driver


def _names(namespace):
    return ', '.join(installed(namespace)) or 'none'
