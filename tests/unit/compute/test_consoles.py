"""get_serial_console on the fake driver: which ports, which states."""

import datetime
import os

from computeagent.compute import states
from computeagent.console import tokens
from computeagent import exception
from tests.unit import agentfixtures

PORTS = [{'type': 'file'}, {'type': 'unix', 'log': True},
         {'type': 'tcp', 'port': 4555}, {'type': 'null'}, ]


class ConsoleTestCase(agentfixtures.ManagerTestCase):

    def setUp(self):
        super().setUp()
        self.flags(proxy_base_url='wss://node-1.example:6083/',
                   token_ttl=300, group='console')
        self.uuid = self.create(serial_ports=PORTS)['uuid']
        self.store = tokens.TokenStore(tokens.token_dir(self.conf))

    def console(self, port=0, uuid=None):
        return self.call('get_serial_console', uuid=uuid or self.uuid,
                         port=port)


class TestGetSerialConsole(ConsoleTestCase):

    def test_unix_port(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        answer = self.console(1)
        self.assertEqual(['url', 'token', 'expires_at', 'port', 'type'],
                         list(answer))
        self.assertEqual('wss://node-1.example:6083/?token=%s'
                         % answer['token'], answer['url'])
        self.assertEqual((1, 'unix'), (answer['port'], answer['type']))
        expires = datetime.datetime.strptime(
            answer['expires_at'], '%Y-%m-%dT%H:%M:%SZ').replace(
                tzinfo=datetime.timezone.utc)
        self.assertLessEqual(expires - before,
                             datetime.timedelta(seconds=301))
        self.assertGreaterEqual(expires - before,
                                datetime.timedelta(seconds=298))
        grant = self.store.claim(answer['token'])
        self.assertEqual((self.uuid, 1), (grant.uuid, grant.port))
        self.assertEqual('unix', grant.target.kind)
        self.assertEqual(
            os.path.join(os.path.abspath(self.conf.instances_path),
                         self.uuid, 'serial1.sock'), grant.target.path)

    def test_tcp_port(self):
        grant = self.store.claim(self.console(2)['token'])
        self.assertEqual(('tcp', '127.0.0.1', 4555),
                         (grant.target.kind, grant.target.host,
                          grant.target.port))

    def test_a_new_token_each_time(self):
        self.assertNotEqual(self.console(1)['token'],
                            self.console(1)['token'])

    def test_ports_a_console_cannot_join(self):
        for port, kind in ((0, 'file'), (3, 'null')):
            error = self.assertRaises(exception.InvalidSpec, self.console,
                                      port)
            self.assertEqual(
                'Invalid port: serial port %d is of type %s, which a '
                'console cannot join (only pty, unix, tcp ports can)'
                % (port, kind), str(error))

    def test_a_port_the_instance_lacks(self):
        uuid = self.create(serial_ports=[{'type': 'unix'}])['uuid']
        error = self.assertRaises(exception.InvalidSpec, self.console, 1,
                                  uuid)
        self.assertEqual('Invalid port: instance %s has no serial port 1 '
                         '(it has 1)' % uuid, str(error))

    def test_bad_port_arguments(self):
        for port in (-1, 4, '1', None, True):
            error = self.assertRaises(exception.InvalidSpec, self.console,
                                      port)
            self.assertEqual('port', error.field)

    def test_unknown_instance(self):
        self.assertRaises(exception.InstanceNotFound, self.console, 1,
                          agentfixtures.new_uuid())

    def test_a_pty_on_the_fake_driver_is_a_driver_error(self):
        uuid = self.create(serial_ports=[{'type': 'pty'}])['uuid']
        self.assertRaises(exception.DriverError, self.console, 0, uuid)

    def test_nothing_is_notified(self):
        mark = len(self.notifications.all)
        self.console(1)
        self.assertEqual(mark, len(self.notifications.all))


class TestStates(ConsoleTestCase):

    def test_running_or_paused_only(self):
        self.assertEqual(('running', 'paused'),
                         states.ALLOWED['get_serial_console'])
        self.console(1)
        self.call('pause_instance', uuid=self.uuid)
        self.console(1)
        self.call('unpause_instance', uuid=self.uuid)
        self.call('stop_instance', uuid=self.uuid, timeout=0)
        error = self.assertRaises(exception.InvalidState, self.console, 1)
        self.assertEqual('Cannot get serial console instance %s while it '
                         'is shutoff.' % self.uuid, str(error))
        self.call('start_instance', uuid=self.uuid)
        self.call('suspend_instance', uuid=self.uuid)
        self.assertRaises(exception.InvalidState, self.console, 1)
