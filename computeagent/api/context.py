"""Request contexts on the wire.

Controllers send the context as a plain dict (oslo.context's
``RequestContext.to_dict()``); a missing or partial one still yields a
context with a fresh ``request_id``, so every log line and notification of
a request can be tied together.
"""

from oslo_context import context as oslo_context
import oslo_messaging


class RequestContextSerializer(oslo_messaging.NoOpSerializer):
    """Context dicts in, RequestContext objects out (and back)."""

    def serialize_context(self, ctxt):
        if ctxt is None:
            return {}
        if hasattr(ctxt, 'to_dict'):
            return ctxt.to_dict()
        return dict(ctxt)

    def deserialize_context(self, ctxt):
        if isinstance(ctxt, oslo_context.RequestContext):
            return ctxt
        if not isinstance(ctxt, dict):
            ctxt = {}
        return oslo_context.RequestContext.from_dict(ctxt)
