"""The connection to libvirt: the only module that imports libvirt.

:class:`Host` owns one connection per driver, opened lazily and shared by
every thread (libvirt connections are thread-safe). When libvirtd
restarts, the connection dies; the next call that notices reopens it
once and retries. Every libvirt error leaves this module as
``exception.DriverError`` carrying libvirt's own message.

Domain events (lifecycle, reboot, device removed): libvirt delivers
them through an event loop that must be registered before the
connection is opened (``virEventRegisterDefaultImpl``) and run by a
thread forever
(``virEventRunDefaultImpl``). Both are process-wide, so they are set up
once per process (:func:`start_event_loop`). Each connection registers
the callbacks of a :class:`computeagent_libvirt.domainevents.DomainEvents`,
which run on that thread and hand over to the driver's handlers.

The operations on one domain are in :mod:`computeagent_libvirt.domain`, the
host-wide reads in :mod:`computeagent_libvirt.node`; both call libvirt
through :meth:`Host.call` and take their flags from :class:`Flags`, so
that this module stays the only one importing libvirt.
"""

import threading
import time

import libvirt
from oslo_log import log as logging

from computeagent import exception
from computeagent.virt import power

LOG = logging.getLogger(__name__)

_LOOP_LOCK = threading.Lock()
_loop_thread = None

# Codes of errors that mean the connection itself is gone (libvirtd
# restarted, socket closed) rather than a refused request; the RPC and
# remote domains are the client side of the daemon connection.
_LOST_CODES = (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_INTERNAL_ERROR)
_LOST_DOMAINS = (libvirt.VIR_FROM_RPC, libvirt.VIR_FROM_REMOTE)


def _quiet(ctx, error):
    # libvirt prints every error to stderr unless a handler is set; errors
    # reach us as libvirtError and are reported from there.
    pass


def _run_event_loop():
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except Exception:
            LOG.exception('libvirt event loop iteration failed')


def start_event_loop():
    """Register libvirt's default event loop and run it, once per process.

    Must happen before a connection that wants events is opened.
    """
    global _loop_thread
    with _LOOP_LOCK:
        if _loop_thread is not None:
            return
        libvirt.virEventRegisterDefaultImpl()
        _loop_thread = threading.Thread(target=_run_event_loop,
                                        name='libvirt-events', daemon=True)
        _loop_thread.start()


class Flags(object):
    """The libvirt flags of the modules that call libvirt, by name.

    Only this module imports libvirt: :mod:`computeagent_libvirt.domain`
    and :mod:`computeagent_libvirt.node` take the constants they need
    from here.
    """

    XML_INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE
    UNDEFINE = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    UNDEFINE_NVRAM = libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
    REBOOT_ACPI = libvirt.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN
    AFFECT_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    AFFECT_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
    MODIFY_FORCE = libvirt.VIR_DOMAIN_DEVICE_MODIFY_FORCE
    COMMIT_ACTIVE_SHALLOW = (libvirt.VIR_DOMAIN_BLOCK_COMMIT_ACTIVE
                             | libvirt.VIR_DOMAIN_BLOCK_COMMIT_SHALLOW)
    JOB_PIVOT = libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT
    SNAPSHOT_DISKS = (libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
                      | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA
                      | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)
    SAVE_RUNNING = libvirt.VIR_DOMAIN_SAVE_RUNNING
    SHUTOFF = libvirt.VIR_DOMAIN_SHUTOFF
    LIST_MANAGED_SAVE = libvirt.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE
    STATS_STATE = libvirt.VIR_DOMAIN_STATS_STATE
    MEMORY_ALL_CELLS = libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS
    # Live, the source libvirtd talking to the destination's itself, the
    # domain persistent there and undefined here once it runs there.
    MIGRATE_LIVE = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
                    | libvirt.VIR_MIGRATE_PERSIST_DEST
                    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)
    MIGRATE_UNSAFE = libvirt.VIR_MIGRATE_UNSAFE
    MIGRATE_PARAM_URI = libvirt.VIR_MIGRATE_PARAM_URI


class Events(object):
    """The lifecycle events and details libvirt reports, by name.

    :mod:`computeagent_libvirt.domainevents` says which power state each
    announces.
    """

    STARTED = libvirt.VIR_DOMAIN_EVENT_STARTED
    RESUMED = libvirt.VIR_DOMAIN_EVENT_RESUMED
    SUSPENDED = libvirt.VIR_DOMAIN_EVENT_SUSPENDED
    PMSUSPENDED = libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED
    CRASHED = libvirt.VIR_DOMAIN_EVENT_CRASHED
    UNDEFINED = libvirt.VIR_DOMAIN_EVENT_UNDEFINED
    STOPPED = libvirt.VIR_DOMAIN_EVENT_STOPPED
    STOPPED_SAVED = libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED
    STOPPED_CRASHED = libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED


def driver_error(error, what=None):
    """A DriverError with libvirt's own message.

    :param error: a libvirt.libvirtError
    :param what: optional description of the attempted operation, logged
    :returns: exception.DriverError
    """
    message = error.get_error_message() or str(error)
    if what:
        LOG.debug('libvirt refused %(what)s: %(msg)s',
                  {'what': what, 'msg': message})
    return exception.DriverError(reason=message)


def is_not_found(error):
    """Whether a libvirtError says the domain does not exist."""
    return error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN


def power_state(state, reason, managed_save):
    """Our power state for libvirt's (state, reason) of a domain.

    A shut-off domain with a managed save image is suspended (resume
    restores it); a domain destroyed by ``on_crash`` is shut off with
    reason "crashed", which is reported as crashed.

    :returns: one of computeagent.virt.power.POWER_STATES
    """
    if state in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED,
                 libvirt.VIR_DOMAIN_NOSTATE):
        return power.RUNNING
    if state == libvirt.VIR_DOMAIN_PAUSED:
        return power.PAUSED
    if state == libvirt.VIR_DOMAIN_PMSUSPENDED:
        return power.SUSPENDED
    if state == libvirt.VIR_DOMAIN_CRASHED:
        return power.CRASHED
    if managed_save:
        return power.SUSPENDED
    if (state == libvirt.VIR_DOMAIN_SHUTOFF
            and reason == libvirt.VIR_DOMAIN_SHUTOFF_CRASHED):
        return power.CRASHED
    return power.SHUTOFF


def is_unreachable(error):
    """Whether a libvirtError from opening a connection means no daemon.

    libvirtd restarting (its socket gone or refusing) is worth waiting
    for; a bad URI or a refused login is not.
    """
    return (error.get_error_code() in _LOST_CODES and
            error.get_error_domain() in _LOST_DOMAINS)


class Host(object):
    """One shared libvirt connection, reopened when libvirtd restarts.

    While libvirtd is unreachable, whoever needs the connection waits for
    it up to ``reconnect_timeout`` seconds, retrying with a growing pause,
    so a libvirtd restart delays requests instead of failing them.

    :param uri: the libvirt connection URI
    :param events: a computeagent_libvirt.domainevents.DomainEvents whose
        callbacks every connection registers; None for no domain events
    :param reconnect_handler: ``handler()`` called, on the thread that
        reopened it, each time the connection is opened again after it
        was lost (not the first time): events of the outage were missed.
        It must not block.
    :param reconnect_timeout: seconds to wait for an unreachable libvirtd
    """

    #: the first and the longest pause between attempts to reach libvirtd
    FIRST_PAUSE = 0.05
    MAX_RETRY_PAUSE = 1.0

    def __init__(self, uri, events=None, reconnect_handler=None,
                 reconnect_timeout=0):
        self.uri = uri
        self._events = events
        self._reconnect_handler = reconnect_handler
        self.reconnect_timeout = reconnect_timeout
        self._lock = threading.Lock()
        self._conn = None
        self._callback_ids = []
        self._closed_conn = None
        self._opened_before = False
        # close() counts and wakes: a shutdown does not wait out a
        # libvirtd outage, while a later call may open a connection again.
        self._closes = 0
        self._woken = threading.Condition()

    # -- connection ----------------------------------------------------

    def connect(self):
        """Open the connection now (the driver's init_host).

        :raises: DriverError when libvirt cannot be reached
        """
        self.connection()

    def connection(self):
        """The open connection, opened (or reopened) if needed.

        An unreachable libvirtd is retried until ``reconnect_timeout``.

        :returns: libvirt.virConnect
        :raises: DriverError
        """
        conn = self._conn
        if conn is not None and conn is not self._closed_conn:
            return conn
        closes = self._closes
        deadline = time.monotonic() + self.reconnect_timeout
        pause = self.FIRST_PAUSE
        while True:
            try:
                conn, reopened = self._open_or_get()
            except libvirt.libvirtError as e:
                remaining = deadline - time.monotonic()
                if not is_unreachable(e) or remaining <= 0:
                    raise driver_error(e, 'opening %s' % self.uri)
                # Once per wait: the retries are many and say nothing new.
                log = LOG.debug if pause > self.FIRST_PAUSE else LOG.warning
                log('libvirt at %(uri)s is unreachable (%(msg)s); retrying '
                    'for %(left).1f s more',
                    {'uri': self.uri, 'left': remaining,
                     'msg': e.get_error_message()})
                if not self._pause(min(pause, remaining), closes):
                    raise driver_error(e, 'opening %s' % self.uri)
                pause = min(pause * 2, self.MAX_RETRY_PAUSE)
                continue
            if reopened and self._reconnect_handler is not None:
                try:
                    self._reconnect_handler()
                except Exception:
                    LOG.exception('Reconnect handler failed')
            return conn

    def _pause(self, seconds, closes):
        """Sleep before another attempt; False if close() came meanwhile.

        :param closes: the count of close() calls when the wait began
        """
        with self._woken:
            if self._closes == closes:
                self._woken.wait(seconds)
            return self._closes == closes

    def _open_or_get(self):
        """The connection, opened if there is none; one attempt.

        :returns: (connection, whether it was just opened again after an
            earlier one)
        :raises: libvirt.libvirtError when it cannot be opened
        """
        with self._lock:
            if self._conn is not None and self._conn is self._closed_conn:
                self._drop_locked()
            if self._conn is not None:
                return self._conn, False
            self._conn = self._open_locked()
            reopened, self._opened_before = self._opened_before, True
            return self._conn, reopened

    def _open_locked(self):
        start_event_loop()
        libvirt.registerErrorHandler(_quiet, None)
        conn = libvirt.open(self.uri)
        ids = []
        events = self._events
        callbacks = () if events is None else (
            (libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, events.lifecycle),
            (libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, events.reboot),
            (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
             events.device_removed))
        try:
            for event_id, callback in callbacks:
                ids.append(conn.domainEventRegisterAny(None, event_id,
                                                       callback, None))
            conn.registerCloseCallback(self._on_close, None)
        except libvirt.libvirtError as e:
            # Events are an optimisation (the manager also syncs power
            # states periodically); a connection without them still works.
            LOG.warning('No lifecycle events from %(uri)s: %(msg)s',
                        {'uri': self.uri, 'msg': e.get_error_message()})
        self._callback_ids = ids
        LOG.info('Connected to %s', self.uri)
        return conn

    def _drop_locked(self):
        conn, self._conn = self._conn, None
        ids, self._callback_ids = self._callback_ids, []
        if conn is None:
            return
        for callback_id in ids:
            try:
                conn.domainEventDeregisterAny(callback_id)
            except libvirt.libvirtError:
                pass  # a dead connection has no callbacks left to remove
        try:
            conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass
        try:
            conn.close()
        except libvirt.libvirtError:
            pass

    def close(self):
        """Close the connection (the driver's cleanup_host).

        Threads waiting for an unreachable libvirtd give up at once.
        """
        with self._woken:
            self._closes += 1
            self._woken.notify_all()
        with self._lock:
            self._drop_locked()

    def _on_close(self, conn, reason, opaque):
        # Runs on the event thread: only note it, the next call reopens.
        LOG.warning('libvirt closed the connection to %(uri)s (reason '
                    '%(reason)s)', {'uri': self.uri, 'reason': reason})
        self._closed_conn = conn

    def _connection_lost(self, conn, error):
        """Whether ``error`` means ``conn`` is dead; if so, forget it."""
        lost = error.get_error_code() == libvirt.VIR_ERR_INVALID_CONN or (
            error.get_error_code() in _LOST_CODES
            and (error.get_error_domain() in _LOST_DOMAINS
                 or 'connection closed' in (error.get_error_message()
                                            or '')))
        if not lost:
            try:
                lost = not conn.isAlive()
            except libvirt.libvirtError:
                lost = True
        if lost:
            LOG.warning('Lost the connection to %(uri)s (%(msg)s); '
                        'reconnecting', {'uri': self.uri,
                                         'msg': error.get_error_message()})
            with self._lock:
                if self._conn is conn:
                    self._drop_locked()
        return lost

    def call(self, what, func, *args, missing_ok=False):
        """``func(conn, *args)``, retried once on a fresh connection.

        :param what: the operation, for logs
        :param missing_ok: return None when libvirt says the domain does
            not exist, instead of raising
        :raises: DriverError with libvirt's message
        """
        for attempt in (1, 2):
            conn = self.connection()
            try:
                return func(conn, *args)
            except libvirt.libvirtError as e:
                if missing_ok and is_not_found(e):
                    return None
                if attempt == 1 and self._connection_lost(conn, e):
                    continue
                raise driver_error(e, what)
