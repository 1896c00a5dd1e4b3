"""The typed errors of the RPC API (docs/api.md, "Errors").

A plain oslo.messaging client sees these as ``RemoteError`` whose
``exc_type`` is the class name, so the names are part of the public
contract and must never change.
"""


class ComputeAgentException(Exception):
    """Base of every error the agent reports to a caller.

    Subclasses set ``msg_fmt``; keyword arguments fill it in, so the text
    names what was wrong without callers formatting strings themselves.
    """

    msg_fmt = 'An unknown error occurred.'

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                # A missing argument must not hide the real error behind a
                # formatting one; say what we know.
                message = '%s (%s)' % (self.msg_fmt, kwargs)
        self.message = message
        super().__init__(message)

    def __str__(self):
        return self.message


class InvalidSpec(ComputeAgentException):
    """The spec or an argument is malformed or contradicts itself."""

    msg_fmt = 'Invalid %(field)s: %(reason)s'

    def __init__(self, message=None, field=None, reason=None, **kwargs):
        self.field = field
        super().__init__(message, field=field, reason=reason, **kwargs)


class InstanceNotFound(ComputeAgentException):
    msg_fmt = 'Instance %(uuid)s could not be found on this host.'


class InstanceExists(ComputeAgentException):
    msg_fmt = ('Instance %(uuid)s already exists with a different spec.')


class InvalidState(ComputeAgentException):
    msg_fmt = ('Cannot %(action)s instance %(uuid)s while it is '
               '%(state)s.')


class ImageNotFound(ComputeAgentException):
    msg_fmt = 'Image %(image)s could not be found: %(reason)s'


class ImageUnsafe(ComputeAgentException):
    msg_fmt = 'Image %(image)s failed inspection: %(reason)s'


class InsufficientResources(ComputeAgentException):
    msg_fmt = 'The host cannot fit the instance: %(reason)s'


class DriverError(ComputeAgentException):
    msg_fmt = 'The hypervisor refused: %(reason)s'


class MigrationFailed(ComputeAgentException):
    """A live migration did not happen; the guest runs where it was."""

    msg_fmt = 'The live migration failed: %(reason)s'


class DriverLoadError(ComputeAgentException):
    """A plugin named in the configuration cannot be loaded (start-up)."""

    msg_fmt = ('Cannot load %(kind)s %(name)r: %(reason)s. '
               'Installed: %(available)s.')


#: Names a caller may see as ``RemoteError.exc_type``.
API_ERRORS = (InvalidSpec, InstanceNotFound, InstanceExists, InvalidState,
              ImageNotFound, ImageUnsafe, InsufficientResources, DriverError,
              MigrationFailed)


def as_api_error(error):
    """The API error a caller is told of for ``error``.

    One of :data:`API_ERRORS` is itself; anything else (a bug, a library's
    own exception) is a DriverError naming it, so the reply and the
    ``.error`` notification of one failure always agree.

    :returns: an instance of one of API_ERRORS
    """
    if isinstance(error, API_ERRORS):
        return error
    return DriverError(reason='%s: %s' % (type(error).__name__, error))
