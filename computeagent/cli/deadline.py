"""Waiting for the broker and the agent, never longer than a deadline.

oslo.messaging bounds the wait for a reply (the call's ``timeout``), but
not the connection a call needs first: the rabbit driver opens the
connection its replies arrive on with unlimited retries, whatever
``retry`` the call was prepared with, so a call to an unreachable broker
would retry for ever. :func:`run` therefore runs each request on a
thread of its own and gives up on it at the deadline; the process is
about to end, so the abandoned thread (a daemon) goes with it.

While it waits, the driver's connection errors are kept off the terminal
(:class:`BrokerLog`) and the last one is told with the deadline's error.
The first of them may be looked into at once (:func:`run`'s
``diagnose``): a TLS certificate problem is then told without waiting
for the deadline, since no retry mends it.
"""

import logging
import threading
import time

# oslo.messaging's modules log under both spellings of its name.
_MESSAGING_LOGGERS = ('oslo.messaging', 'oslo_messaging')

# The threads of the requests given up on.
_abandoned = []
# Seconds between looks at the broker log while a diagnosis is pending.
_POLL = 0.1


class DeadlinePassed(Exception):
    """A request did not end within its deadline.

    :param seconds: the deadline it had
    :param broker_error: the last connection error the driver logged
        while it waited, or None
    :param what: what the request was doing, if it may still finish
        where it was sent
    """

    def __init__(self, seconds, broker_error=None, what=None):
        super().__init__('no answer within %s s' % seconds)
        self.seconds = seconds
        self.broker_error = broker_error
        self.what = what


class BrokerLog(logging.Handler):
    """Holds oslo.messaging's log records back; remembers connection errors.

    A command line wants one line on stderr, not the driver's retry
    messages. Use it as a context manager around the requests; with
    ``show=True`` (``--debug``) the records are printed as well.
    """

    def __init__(self, show=False):
        super().__init__(level=logging.DEBUG if show else logging.ERROR)
        self.show = show
        self.last_error = None
        #: set at the first error the driver logged
        self.failed = threading.Event()
        self._saved = []

    def emit(self, record):
        if record.levelno >= logging.ERROR:
            self.failed.set()
            # "Connection failed: %s (retrying in %s seconds)": the
            # reason is the first argument; any other error is kept whole.
            if (isinstance(record.msg, str)
                    and record.msg.startswith('Connection failed')
                    and record.args):
                self.last_error = str(record.args[0])
            else:
                self.last_error = record.getMessage()

    def __enter__(self):
        for name in _MESSAGING_LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.propagate, logger.level))
            logger.addHandler(self)
            logger.propagate = self.show
            if self.show:
                logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc_info):
        for logger, propagate, level in self._saved:
            logger.removeHandler(self)
            logger.propagate = propagate
            logger.setLevel(level)
        self._saved = []


def run(func, seconds, broker_log=None, diagnose=None):
    """``func()``, unless it takes longer than ``seconds``.

    :param func: a callable without arguments (an RPC request)
    :param seconds: the deadline
    :param broker_log: the BrokerLog whose last error explains a deadline
    :param diagnose: called once, with the seconds left, when the driver
        first logs an error while ``func`` runs; what it raises ends the
        wait (``func`` is given up on)
    :returns: what ``func`` returned
    :raises: what ``func`` or ``diagnose`` raised, or DeadlinePassed
    """
    end = time.monotonic() + seconds
    outcome = {}
    done = threading.Event()

    def target():
        try:
            outcome['result'] = func()
        except BaseException as error:
            outcome['error'] = error
        finally:
            done.set()

    worker = threading.Thread(target=target, name='ctl-request',
                              daemon=True)
    worker.start()
    if broker_log is None:
        diagnose = None
    while not done.is_set():
        left = end - time.monotonic()
        if left <= 0:
            _abandoned.append(worker)
            raise DeadlinePassed(seconds,
                                 broker_log and broker_log.last_error)
        if diagnose is not None and broker_log.failed.is_set():
            look, diagnose = diagnose, None
            try:
                look(left)
            except BaseException:
                _abandoned.append(worker)
                raise
            continue
        done.wait(left if diagnose is None else min(left, _POLL))
    if 'error' in outcome:
        raise outcome['error']
    return outcome['result']


def abandoned():
    """:returns: True if a request given up on is still running"""
    _abandoned[:] = [t for t in _abandoned if t.is_alive()]
    return bool(_abandoned)
