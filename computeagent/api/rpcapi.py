"""The controller's client of docs/api.md: a thin, typed wrapper.

It speaks exactly what a plain oslo.messaging client would, so anything
it can do, a controller written by others can do too. The project's own
exceptions come back as themselves (``allowed_remote_exmods``); a caller
of another version sees ``RemoteError`` with the same ``exc_type``.
"""

from oslo_context import context as oslo_context
import oslo_messaging

from computeagent.api import context
from computeagent import exception
from computeagent.schema import instance

#: The newest API version this client knows.
API_VERSION = '1.3'

# Methods that may be cast (docs/api.md: "may also be cast").
CASTABLE = frozenset(('create_instance', 'delete_instance',
                      'reboot_instance', 'stop_instance', 'start_instance',
                      'pause_instance', 'unpause_instance',
                      'suspend_instance', 'resume_instance',
                      'migrate_instance'))


def get_transport(conf, url=None):
    """An RPC transport that gives this package's errors back typed.

    :param url: transport URL; default ``[DEFAULT] transport_url``
    """
    return oslo_messaging.get_rpc_transport(
        conf, url=url, allowed_remote_exmods=[exception.__name__])


class ComputeAgentAPI(object):
    """Client of the agent on one host.

    :param transport: an oslo.messaging RPC transport (get_transport)
    :param host: the compute node to address
    :param topic: the agent's topic ([DEFAULT] rpc_topic)
    :param timeout: seconds a call waits for its answer
    :param version_cap: the newest version the agents are known to serve
    :param exchange: the agent's control exchange; default the
        transport's ``[DEFAULT] control_exchange``
    """

    def __init__(self, transport, host, topic='computeagent', timeout=None,
                 version_cap=API_VERSION, exchange=None):
        target = oslo_messaging.Target(exchange=exchange, topic=topic,
                                       server=host, version=API_VERSION)
        self.client = oslo_messaging.get_rpc_client(
            transport, target, version_cap=version_cap, timeout=timeout,
            serializer=context.RequestContextSerializer())

    def _call(self, ctxt, method, **kwargs):
        ctxt = ctxt or oslo_context.RequestContext()
        return self.client.prepare(version='1.0').call(ctxt, method,
                                                       **kwargs)

    def _cast(self, ctxt, method, **kwargs):
        ctxt = ctxt or oslo_context.RequestContext()
        self.client.prepare(version='1.0').cast(ctxt, method, **kwargs)

    def _call_or_cast(self, ctxt, method, cast, **kwargs):
        if cast and method in CASTABLE:
            return self._cast(ctxt, method, **kwargs)
        return self._call(ctxt, method, **kwargs)

    def create_instance(self, ctxt, spec, cast=False):
        return self._call_or_cast(ctxt, 'create_instance', cast, spec=spec)

    def render_instance(self, ctxt, spec):
        return self._call(ctxt, 'render_instance', spec=spec)

    def delete_instance(self, ctxt, uuid, cast=False):
        return self._call_or_cast(ctxt, 'delete_instance', cast, uuid=uuid)

    def get_instance(self, ctxt, uuid):
        return self._call(ctxt, 'get_instance', uuid=uuid)

    def list_instances(self, ctxt):
        return self._call(ctxt, 'list_instances')

    def reboot_instance(self, ctxt, uuid, hard=False, cast=False):
        return self._call_or_cast(ctxt, 'reboot_instance', cast, uuid=uuid,
                                  hard=hard)

    def stop_instance(self, ctxt, uuid, timeout=60, cast=False):
        return self._call_or_cast(ctxt, 'stop_instance', cast, uuid=uuid,
                                  timeout=timeout)

    def start_instance(self, ctxt, uuid, cast=False):
        return self._call_or_cast(ctxt, 'start_instance', cast, uuid=uuid)

    def pause_instance(self, ctxt, uuid, cast=False):
        return self._call_or_cast(ctxt, 'pause_instance', cast, uuid=uuid)

    def unpause_instance(self, ctxt, uuid, cast=False):
        return self._call_or_cast(ctxt, 'unpause_instance', cast, uuid=uuid)

    def suspend_instance(self, ctxt, uuid, cast=False):
        return self._call_or_cast(ctxt, 'suspend_instance', cast, uuid=uuid)

    def resume_instance(self, ctxt, uuid, cast=False):
        return self._call_or_cast(ctxt, 'resume_instance', cast, uuid=uuid)

    def get_console_output(self, ctxt, uuid, tail_lines=None,
                           max_bytes=instance.DEFAULT_CONSOLE_BYTES):
        return self._call(ctxt, 'get_console_output', uuid=uuid,
                          tail_lines=tail_lines, max_bytes=max_bytes)

    def attach_disk(self, ctxt, uuid, disk):
        return self._call(ctxt, 'attach_disk', uuid=uuid, disk=disk)

    def detach_disk(self, ctxt, uuid, target):
        return self._call(ctxt, 'detach_disk', uuid=uuid, target=target)

    def change_media(self, ctxt, uuid, target, image=None):
        return self._call(ctxt, 'change_media', uuid=uuid, target=target,
                          image=image)

    def commit_disk(self, ctxt, uuid, target=None):
        """Commit the snapshot disk ``target``, or every one (API 1.3).

        :raises: oslo_messaging.RPCVersionCapError without ``target`` if
            the agents are capped below 1.3 (a 1.0 agent needs a target)
        """
        if target is not None:
            return self._call(ctxt, 'commit_disk', uuid=uuid, target=target)
        return self._client_at('1.3').call(
            ctxt or oslo_context.RequestContext(), 'commit_disk', uuid=uuid)

    def _client_at(self, version):
        """The client prepared for ``version``, if the agents serve it.

        :raises: oslo_messaging.RPCVersionCapError if the agents are
            capped below ``version``
        """
        if not self.client.can_send_version(version):
            raise oslo_messaging.RPCVersionCapError(
                version=version, version_cap=self.client.version_cap)
        return self.client.prepare(version=version)

    def migrate_instance(self, ctxt, uuid, dest_host, live=True,
                         cast=False):
        """Move the instance's guest to ``dest_host`` (API 1.2).

        :raises: oslo_messaging.RPCVersionCapError if the agents are
            capped below 1.2 (they cannot migrate)
        """
        client = self._client_at('1.2')
        ctxt = ctxt or oslo_context.RequestContext()
        kwargs = dict(uuid=uuid, dest_host=dest_host, live=live)
        if cast:
            return client.cast(ctxt, 'migrate_instance', **kwargs)
        return client.call(ctxt, 'migrate_instance', **kwargs)

    def set_boot_order(self, ctxt, uuid, boot_order):
        """The order of the guest's next boot (API 1.3).

        :param boot_order: a list of disk targets and nic MACs
        :raises: oslo_messaging.RPCVersionCapError if the agents are
            capped below 1.3
        """
        return self._client_at('1.3').call(
            ctxt or oslo_context.RequestContext(), 'set_boot_order',
            uuid=uuid, boot_order=boot_order)

    def get_serial_console(self, ctxt, uuid, port=0):
        """A one-time token and URL for a serial console (API 1.3).

        :returns: ``{"url", "token", "expires_at", "port", "type"}``
        :raises: oslo_messaging.RPCVersionCapError if the agents are
            capped below 1.3
        """
        client = self._client_at('1.3')
        return client.call(ctxt or oslo_context.RequestContext(),
                           'get_serial_console', uuid=uuid, port=port)

    def get_host_status(self, ctxt):
        return self._call(ctxt, 'get_host_status')
