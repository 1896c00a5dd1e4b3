"""Decorating endpoint methods as RPC API methods.

Every API method is exposed explicitly (the server uses oslo.messaging's
ExplicitRPCAccessPolicy, so helpers can never be called remotely), binds
its arguments strictly, puts the request context in the thread for
logging, and turns anything that is not one of docs/api.md's errors into a
DriverError so callers only ever see the documented names.
"""

import functools
import inspect

from oslo_log import log as logging
import oslo_messaging

from computeagent import exception

LOG = logging.getLogger(__name__)


def api_method(func):
    """Mark ``func(self, ctxt, **kwargs)`` as an RPC API method."""
    signature = inspect.signature(func)

    # self and ctxt are positional-only, so a request's argument of either
    # name lands in kwargs and is refused by the bind below as InvalidSpec
    # instead of escaping as a bare TypeError from the call itself.
    @functools.wraps(func)
    def wrapper(self, ctxt, /, **kwargs):
        if hasattr(ctxt, 'update_store'):
            # oslo.log reads request_id from the thread's current context.
            ctxt.update_store()
        try:
            signature.bind(self, ctxt, **kwargs)
        except TypeError as error:
            raise exception.InvalidSpec(
                field=func.__name__,
                reason='bad arguments: %s' % error)
        try:
            return func(self, ctxt, **kwargs)
        except exception.API_ERRORS:
            raise
        except Exception as error:
            LOG.exception('Unexpected error in %s', func.__name__)
            raise exception.as_api_error(error)

    exposed = oslo_messaging.expected_exceptions(*exception.API_ERRORS)(
        wrapper)
    # expected_exceptions does not wrap: keep the method's name, docstring
    # and signature (inspect.signature follows __wrapped__) visible.
    functools.update_wrapper(exposed, func)
    return oslo_messaging.expose(exposed)
