"""Where an interactive serial console connects, and what a token grants.

The virt driver resolves a serial port to a :class:`ConsoleTarget`
(:meth:`computeagent.virt.driver.ComputeDriver.get_serial_console`); the
agent writes it into a console token
(:mod:`computeagent.console.tokens`); the console proxy connects to it.
"""

import dataclasses
import typing

#: the serial port types a console can join: the ones with a host end a
#: client can open (a ``file`` or ``null`` port has none)
INTERACTIVE_TYPES = ('pty', 'unix', 'tcp')


@dataclasses.dataclass(frozen=True)
class ConsoleTarget(object):
    """The host end of one serial port's chardev.

    :ivar kind: ``pty``, ``unix`` or ``tcp``
    :ivar path: the pty's device or the unix socket, else None
    :ivar host: a tcp port's host, else None; :ivar port: likewise
    """

    kind: str
    path: typing.Optional[str] = None
    host: typing.Optional[str] = None
    port: typing.Optional[int] = None

    def to_dict(self):
        return {field.name: getattr(self, field.name)
                for field in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class ConsoleGrant(object):
    """What one console token lets its holder join, and until when.

    :ivar uuid: the instance
    :ivar port: the serial port's index
    :ivar target: the ConsoleTarget of that port
    :ivar expires_at: seconds since the epoch (wall clock: the agent and
        the proxy are two processes)
    """

    uuid: str
    port: int
    target: ConsoleTarget
    expires_at: float

    def to_dict(self):
        return {'uuid': self.uuid, 'port': self.port,
                'target': self.target.to_dict(),
                'expires_at': self.expires_at}

    @classmethod
    def from_dict(cls, data):
        return cls(uuid=data['uuid'], port=data['port'],
                   target=ConsoleTarget.from_dict(data['target']),
                   expires_at=data['expires_at'])
