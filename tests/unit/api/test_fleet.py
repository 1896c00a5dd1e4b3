"""A controller's transports, one per host (computeagent.api.fleet)."""

from oslo_messaging import conffixture

from computeagent.api import fleet
from computeagent.fleet import vhosts
from tests import base

TEMPLATE = 'fake:///computeagent-{host}'


class TestFleet(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(conffixture.ConfFixture(self.conf,
                                                transport_url='fake:/'))

    def fleet(self, template=TEMPLATE):
        made = fleet.Fleet(self.conf, template)
        self.addCleanup(made.cleanup)
        return made

    def test_a_url_per_host(self):
        self.assertEqual('fake:///computeagent-node1',
                         self.fleet().url('node1'))

    def test_a_host_that_cannot_be_a_vhost_is_refused(self):
        self.assertRaises(vhosts.InvalidHostName, self.fleet().url,
                          'node1/../other')

    def test_transports_made_once_per_host(self):
        fleet_ = self.fleet()
        first = fleet_.transport('node1')
        self.assertIs(first, fleet_.transport('node1'))
        self.assertIsNot(first, fleet_.transport('node2'))
        self.assertIsNot(first, fleet_.notification_transport('node1'))
        self.assertIs(fleet_.notification_transport('node1'),
                      fleet_.notification_transport('node1'))

    def test_one_shared_vhost_is_one_transport(self):
        fleet_ = self.fleet('fake:///shared')
        self.assertIs(fleet_.transport('node1'), fleet_.transport('node2'))
        self.assertEqual('fake:///shared', fleet_.url('node2'))

    def test_no_template_is_the_default_transport(self):
        fleet_ = self.fleet(None)
        self.assertIsNone(fleet_.url('node1'))
        self.assertFalse(fleet_.per_host)
        self.assertIs(fleet_.transport('node1'), fleet_.transport('node2'))

    def test_requests_go_to_amq_topic_of_a_hosts_vhost(self):
        target = self.fleet().api('node1').client.target
        self.assertEqual(('amq.topic', 'computeagent', 'node1'),
                         (target.exchange, target.topic, target.server))

    def test_shared_vhost_keeps_the_control_exchange(self):
        target = self.fleet('fake:///shared').api('node1').client.target
        self.assertIsNone(target.exchange)

    def test_a_listener_per_host(self):
        listener = self.fleet().notification_listener(['node1', 'node2'],
                                                      [object()])
        self.assertEqual(2, len(listener.listeners))

    def test_one_listener_for_a_shared_vhost(self):
        listener = self.fleet('fake:///shared').notification_listener(
            ['node1', 'node2'], [object()])
        self.assertEqual(1, len(listener.listeners))

    def test_cleanup_forgets_the_transports(self):
        fleet_ = self.fleet()
        first = fleet_.transport('node1')
        fleet_.cleanup()
        self.assertIsNot(first, fleet_.transport('node1'))
