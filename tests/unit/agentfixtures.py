"""Fixtures for unit tests of the service layer over the ``fake:`` transport.

oslo.messaging's ``fake:`` driver carries requests in memory between
threads of one process, the way oslo.messaging's own tests use it. Its
notifications go to the ``test`` notifier driver, which records them in
``oslo_messaging.notify._impl_test.NOTIFICATIONS``.

Only three private modules of oslo.messaging are used, each for what no
public API offers: the ``test`` notifier driver's record (a public
notification listener would see notifications later, on a thread of its
own, not as they are sent), and the fake driver's ``_send`` with the
remote-exception serialization of the real drivers (:class:`WireFormat`).
"""

import os
import sys
import threading
import uuid as uuid_mod

import fixtures
from oslo_context import context as oslo_context
import oslo_messaging
from oslo_messaging._drivers import common as rpc_common
from oslo_messaging._drivers import impl_fake
from oslo_messaging import conffixture
from oslo_messaging.notify import _impl_test
from oslo_serialization import jsonutils

from computeagent.api import context as agent_context
from computeagent.api import endpoint as endpoint_mod
from computeagent.api import notifications
from computeagent.compute import manager as manager_mod
from computeagent.compute import store as store_mod
from computeagent import exception
from computeagent.objects import record as record_obj
from computeagent.objects import stored as stored_obj
from computeagent import service as service_mod
from computeagent.virt import driver as virt_driver
from tests import base

# Long enough for any in-process call; a hang fails the test instead of
# blocking the run (tests/base.py also has a whole-test timeout).
CALL_TIMEOUT = 30
WAIT = 30


def new_uuid():
    return str(uuid_mod.uuid4())


def api_error_samples():
    """One instance of each error of docs/api.md, with every argument set."""
    return (exception.InvalidSpec(field='disks', reason='r'),
            exception.InstanceNotFound(uuid='u'),
            exception.InstanceExists(uuid='u'),
            exception.InvalidState(action='a', uuid='u', state='s'),
            exception.ImageNotFound(image='i', reason='r'),
            exception.ImageUnsafe(image='i', reason='r'),
            exception.InsufficientResources(reason='r'),
            exception.DriverError(reason='r'))


def make_spec(uuid=None, **extra):
    """A small valid create_instance spec."""
    spec = {'uuid': uuid or new_uuid(),
            'disks': [{'source': {'image': 'cirros.qcow2'}}]}
    spec.update(extra)
    return spec


class Notifications(fixtures.Fixture):
    """Records notifications with oslo.messaging's ``test`` driver.

    The fixture selects the driver, empties its list and lets a test wait
    for a notification without sleeping.
    """

    def __init__(self, conf):
        super().__init__()
        self.conf = conf

    def _setUp(self):
        self.conf.set_override('driver', ['test'],
                               group='oslo_messaging_notifications')
        self.addCleanup(self.conf.clear_override, 'driver',
                        group='oslo_messaging_notifications')
        _impl_test.reset()
        self.addCleanup(_impl_test.reset)
        self._cond = threading.Condition()
        original = _impl_test.TestDriver.notify
        cond = self._cond

        def notify(driver, ctxt, message, priority, retry):
            with cond:
                original(driver, ctxt, message, priority, retry)
                cond.notify_all()
        self.useFixture(fixtures.MonkeyPatch(
            'oslo_messaging.notify._impl_test.TestDriver.notify', notify))

    @property
    def all(self):
        """``[(ctxt, message, priority)]`` in the order sent."""
        with self._cond:
            return [(c, m, p) for c, m, p, _r in _impl_test.NOTIFICATIONS]

    def messages(self, event_type=None):
        return [m for _c, m, _p in self.all
                if event_type is None or m['event_type'] == event_type]

    def event_types(self, prefix='instance.'):
        return [m['event_type'] for m in self.messages()
                if m['event_type'].startswith(prefix)]

    def payloads(self, event_type):
        return [m['payload'] for m in self.messages(event_type)]

    def wait_for(self, event_type, count=1, match=None, timeout=WAIT):
        """Wait until ``count`` notifications of ``event_type`` were sent.

        :param match: count only messages for which ``match(message)``
        :returns: those messages
        :raises: AssertionError on timeout
        """
        def found():
            return [m for m in self.messages(event_type)
                    if match is None or match(m)]
        with self._cond:
            done = self._cond.wait_for(lambda: len(found()) >= count,
                                       timeout)
        if not done:
            raise AssertionError('no %d x %s within %s s; got %s'
                                 % (count, event_type, timeout,
                                    self.event_types('')))
        return found()


class FakeTransport(fixtures.Fixture):
    """``transport_url = fake:/`` and the notification test driver."""

    def __init__(self, conf):
        super().__init__()
        self.conf = conf

    def _setUp(self):
        self.useFixture(conffixture.ConfFixture(self.conf,
                                                transport_url='fake:/'))
        # A topic of its own keeps a test's queues apart from others'.
        self.conf.set_override('rpc_topic', 'computeagent-%s' % new_uuid())
        self.addCleanup(self.conf.clear_override, 'rpc_topic')
        self.notifications = self.useFixture(Notifications(self.conf))


class WireFormat(fixtures.Fixture):
    """Make replies on ``fake:`` look as they do after a real broker.

    The fake driver hands the caller the server's own result and exception
    objects. A broker carries JSON: real drivers serialize a failure with
    ``serialize_remote_exception`` and the caller rebuilds it with
    ``deserialize_remote_exception`` and its ``allowed_remote_exmods``,
    which gives a plain client a ``RemoteError`` named by ``exc_type``.
    This fixture runs both functions, oslo.messaging's own, on every
    reply, and sends results through JSON.
    """

    def _setUp(self):
        original = impl_fake.FakeDriver._send

        def _send(driver, target, ctxt, message, wait_for_reply=None,
                  timeout=None, transport_options=None):
            # Errors of the caller's own side are not from the wire.
            driver._check_serialize(message)
            try:
                reply = original(driver, target, ctxt, message,
                                 wait_for_reply, timeout, transport_options)
            except oslo_messaging.MessagingTimeout:
                raise
            except Exception:
                data = rpc_common.serialize_remote_exception(sys.exc_info())
                raise rpc_common.deserialize_remote_exception(
                    data, driver._allowed_remote_exmods)
            return jsonutils.loads(jsonutils.dumps(reply))
        self.useFixture(fixtures.MonkeyPatch(
            'oslo_messaging._drivers.impl_fake.FakeDriver._send', _send))


class AgentService(fixtures.Fixture):
    """A started :class:`computeagent.service.Service` on ``fake:``.

    The fake driver is loaded by its entry point, as the agent would.
    Periodic tasks are off unless the test turns them on.
    """

    def __init__(self, conf, driver=None, **flags):
        """:param driver: a driver object to hand the service"""
        super().__init__()
        self.conf = conf
        self.driver = driver
        self.flags = dict({'virt_driver': 'fake', 'report_interval': 0,
                           'sync_power_state_interval': 0}, **flags)

    def _setUp(self):
        for name, value in self.flags.items():
            self.conf.set_override(name, value)
            self.addCleanup(self.conf.clear_override, name)
        self.service = service_mod.Service(self.conf, driver=self.driver)
        self.addCleanup(self.service.transport.cleanup)
        self.service.start()
        self.addCleanup(self.service.stop)
        self.manager = self.service.manager
        self.endpoint = self.service.endpoint
        self.driver = self.service.driver
        self.store = self.service.store


class HeldCalls(fixtures.Fixture):
    """Make calls of ``obj.name`` wait until the test lets them go.

    ``entered`` counts the calls that have begun (a Semaphore released
    once per call); ``gate`` lets them all go on. The gate opens at
    cleanup, so no thread is left waiting.
    """

    def __init__(self, obj, name):
        super().__init__()
        self.obj = obj
        self.name = name
        self.entered = threading.Semaphore(0)
        self.gate = threading.Event()

    def _setUp(self):
        self.addCleanup(self.gate.set)
        real = getattr(self.obj, self.name)

        def held(*args, **kwargs):
            self.entered.release()
            if not self.gate.wait(WAIT):
                raise AssertionError('%s held for %s s' % (self.name, WAIT))
            return real(*args, **kwargs)
        self.useFixture(fixtures.MockPatchObject(self.obj, self.name,
                                                 side_effect=held))

    def wait_entered(self, count=1):
        """Wait until ``count`` more calls have begun."""
        for _ in range(count):
            if not self.entered.acquire(timeout=WAIT):
                raise AssertionError('%s was not called' % self.name)


def plain_client(conf, topic=None, server=None, timeout=CALL_TIMEOUT):
    """An oslo.messaging RPC client with nothing of ours in it.

    :returns: ``(transport, client)``; the caller cleans up the transport
    """
    transport = oslo_messaging.get_rpc_transport(conf)
    target = oslo_messaging.Target(topic=topic or conf.rpc_topic,
                                   server=server or conf.host,
                                   version='1.0')
    client = oslo_messaging.get_rpc_client(transport, target,
                                           timeout=timeout)
    return transport, client


def build_manager(conf, driver=None, locks=None):
    """A ComputeManager with a driver, a store and a notifier.

    Needs :class:`FakeTransport` for the notification transport.

    :param driver: by default, the one ``[DEFAULT] virt_driver`` names,
        loaded by its entry point
    :param locks: the InstanceLocks for the manager, by default its own
    """
    driver = driver or virt_driver.load_driver(conf)
    store = store_mod.InstanceStore.from_conf(conf)
    transport = oslo_messaging.get_notification_transport(conf)
    notifier = notifications.Notifier(
        conf, transport, conf.host,
        serializer=agent_context.RequestContextSerializer())
    return manager_mod.ComputeManager(conf, driver, store, notifier,
                                      locks=locks)


def build_endpoint(conf, driver=None, locks=None):
    """The RPC endpoint over a :func:`build_manager` manager.

    Its ``manager`` attribute is that manager.
    """
    return endpoint_mod.ComputeEndpoint(build_manager(conf, driver, locks))


def context(**kwargs):
    return oslo_context.RequestContext(**kwargs)


def call_endpoint(method, ctxt, **kwargs):
    """Call an exposed endpoint method; raise what a caller would see."""
    try:
        return method(ctxt, **kwargs)
    except oslo_messaging.ExpectedException as wrapped:
        raise wrapped.exc_info[1] from None


def instance_of(uuid):
    """A StoredInstance naming ``uuid``.

    For asking a driver about a guest the store may no longer know.
    """
    return stored_obj.StoredInstance(record=record_obj.InstanceRecord(
        uuid=uuid, name=uuid, host='test-host', state=None, vcpus=1,
        memory_mb=128, disks=(), serial_ports=(), console_log=None,
        created_at='', metadata=()))


def set_guest_state(driver, uuid, state, emit=False):
    """Change a fake guest's state as the hypervisor would on its own.

    A guest crashes, shuts itself down or vanishes without the agent
    asking; the fake driver has no API for that, so its table is edited.

    :param state: a power state, or None to make the guest vanish
    :param emit: also send the power event a real driver would
    """
    with driver._lock:
        if state is None:
            del driver._guests[uuid]
        else:
            driver._guests[uuid]['state'] = state
    if emit:
        driver.emit_event(uuid, state)


class ManagerTestCase(base.TestCase):
    """A ComputeManager on the fake driver, called as the server would.

    ``endpoint`` is the RPC endpoint the server would dispatch to,
    ``manager`` its ComputeManager.
    """

    def setUp(self):
        super().setUp()
        self.transport = self.useFixture(FakeTransport(self.conf))
        self.notifications = self.transport.notifications
        self.flags(virt_driver='fake')
        os.makedirs(self.conf.instances_path)
        self.endpoint = build_endpoint(self.conf)
        self.manager = self.endpoint.manager
        self.driver = self.manager.driver
        self.store = self.manager.store
        self.ctxt = context()

    def rebuild_manager(self, locks=None):
        """A new manager and store (for options read at start-up).

        :param locks: the InstanceLocks for the manager, by default its own
        """
        self.endpoint = build_endpoint(self.conf, self.driver, locks)
        self.manager = self.endpoint.manager
        self.store = self.manager.store

    def create(self, uuid=None, **extra):
        return self.call('create_instance', spec=make_spec(uuid, **extra))

    def call(self, method, endpoint=None, **kwargs):
        """Call an API method as the RPC dispatcher does.

        docs/api.md's errors leave the method wrapped in oslo.messaging's
        ExpectedException (so the server does not log them as failures);
        the dispatcher replies with the error inside, and so does this.

        :param endpoint: by default, the test's
        """
        endpoint = endpoint or self.endpoint
        return call_endpoint(getattr(endpoint, method), self.ctxt, **kwargs)

    def instance_dir(self, uuid):
        return os.path.join(self.conf.instances_path, uuid)
