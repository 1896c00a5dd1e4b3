"""The RPC server: builds run on their own threads, not on RPC workers.

A create can take minutes (an image fetched, a slot awaited under
``max_concurrent_builds``). Were it handled on the RPC server's worker
pool like any other request, enough creates (even cast ones) would
occupy every worker and leave gets, lists, deletes and stops waiting
behind them. :class:`AgentRPCServer` hands each ``create_instance``
message to a build pool of its own instead; the RPC worker that
received it is free again at once. The build thread dispatches the
message and, for a call, sends the reply itself.

oslo.messaging's public ``get_rpc_server`` takes the server class as a
parameter for this kind of refinement, but no public hook of the server
says which thread handles a message: the request is handled, from
acknowledgement to reply, by ``RPCServer._process_incoming(incoming)``,
which ``MessageHandlingServer._on_incoming`` submits to the worker pool
for each batch the listener hands it (``incoming[0]`` the message). An
endpoint cannot do it: the reply is sent when its method returns. So
that private method is refined here; requirements.txt bounds
oslo.messaging below its next major version and
tests/unit/api/test_rpcserver.py fails if the hook changes.
"""

from concurrent import futures
import functools

from oslo_log import log as logging
import oslo_messaging
from oslo_messaging.rpc import server as rpc_server

LOG = logging.getLogger(__name__)

# Methods whose messages go to the build pool.
BUILD_METHODS = frozenset(['create_instance'])
# The names of the build pool's threads.
BUILD_THREAD_PREFIX = 'build'


class AgentRPCServer(rpc_server.RPCServer):
    """An RPC server whose creates run on a separate build pool.

    ``build_pool_size`` is how many creates are accepted at once: each is
    validated, claims its resources and is listed as ``building`` while
    it waits for one of the ``max_concurrent_builds`` slots. Creates
    beyond it wait their turn in the pool's queue.

    To stop: :meth:`stop`, :meth:`finish_builds`, then :meth:`wait`.
    (The parent's start, stop and wait are ordered tasks that cannot be
    overridden, hence the separate step.)
    """

    def __init__(self, transport, target, dispatcher, executor=None, *,
                 build_pool_size):
        # No executor is named (get_server passes None): oslo.messaging
        # deprecates the argument and chooses the threading executor,
        # nothing being monkey-patched.
        super().__init__(transport, target, dispatcher, executor)
        self._builds = futures.ThreadPoolExecutor(
            max_workers=build_pool_size,
            thread_name_prefix=BUILD_THREAD_PREFIX)

    def _process_incoming(self, incoming):
        if incoming[0].message.get('method') in BUILD_METHODS:
            try:
                # The parent does everything from acknowledging to
                # replying; on the build pool it does so without an RPC
                # worker waiting on it.
                self._builds.submit(self._process_build, incoming)
                return
            except RuntimeError:
                # Stopping, and the pool already finished: handle it here
                # rather than lose it; wait() still waits for this worker.
                pass
        super()._process_incoming(incoming)

    def _process_build(self, incoming):
        try:
            super()._process_incoming(incoming)
        except Exception:
            # The parent logs and replies for failures of the method
            # itself; this guards the pool thread against anything else.
            LOG.exception('Unexpected failure handling %s',
                          incoming[0].message.get('method'))

    def finish_builds(self):
        """Wait for every create accepted to run to its end.

        Call it between :meth:`stop` and :meth:`wait`: creates finish the
        way requests on the RPC workers do, and before the parent's wait
        closes the listener.
        """
        self._builds.shutdown(wait=True)


def get_server(transport, target, endpoints, serializer, build_pool_size):
    """An :class:`AgentRPCServer` that allows only exposed methods.

    :param endpoints: endpoint objects; only methods marked with
        ``oslo_messaging.expose`` can be called (docs/api.md's, no others)
    :param build_pool_size: how many creates are handled at once
    :returns: the server, not started
    """
    return oslo_messaging.get_rpc_server(
        transport, target, endpoints, serializer=serializer,
        access_policy=oslo_messaging.ExplicitRPCAccessPolicy,
        server_cls=functools.partial(AgentRPCServer,
                                     build_pool_size=build_pool_size))
