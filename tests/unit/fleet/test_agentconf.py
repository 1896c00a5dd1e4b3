"""The agent's messaging options with a vhost of its own."""

from oslo_messaging import conffixture

from computeagent.fleet import agentconf
from tests import base

URL = 'rabbit://test-host:secret@broker:5672/computeagent-test-host'


class TestPrepare(base.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(conffixture.ConfFixture(self.conf,
                                                transport_url=URL))
        # prepare() sets defaults, which outlive the Config fixture.
        self.addCleanup(self.conf.clear_default, 'control_exchange')
        self.addCleanup(self.conf.clear_default, 'amqp_durable_queues',
                        group='oslo_messaging_rabbit')

    def test_nothing_without_vhost_per_host(self):
        self.flags(transport_url='rabbit://u:p@broker/shared')
        agentconf.prepare(self.conf)
        self.assertNotEqual('amq.topic', self.conf.control_exchange)

    def test_amq_topic_and_durable_queues_by_default(self):
        self.flags(vhost_per_host=True, group='fleet')
        agentconf.prepare(self.conf)
        self.assertEqual('amq.topic', self.conf.control_exchange)
        self.assertTrue(
            self.conf.oslo_messaging_rabbit.amqp_durable_queues)

    def test_another_hosts_vhost_refused(self):
        self.flags(vhost_per_host=True, group='fleet')
        self.flags(transport_url=URL.replace('-test-host', '-other'))
        error = self.assertRaises(agentconf.FleetConfigError,
                                  agentconf.prepare, self.conf)
        self.assertIn('computeagent-test-host', str(error))
        self.assertIn('computeagent-other', str(error))
        self.assertNotIn('secret', str(error))

    def test_the_vhost_follows_the_topic(self):
        self.flags(vhost_per_host=True, group='fleet')
        self.flags(rpc_topic='agents')
        error = self.assertRaises(agentconf.FleetConfigError,
                                  agentconf.prepare, self.conf)
        self.assertIn('agents-test-host', str(error))

    def test_a_notification_url_elsewhere_refused(self):
        self.flags(vhost_per_host=True, group='fleet')
        self.flags(transport_url='rabbit://u:p@broker/',
                   group='oslo_messaging_notifications')
        error = self.assertRaises(agentconf.FleetConfigError,
                                  agentconf.prepare, self.conf)
        self.assertIn('[oslo_messaging_notifications] transport_url',
                      str(error))

    def test_another_control_exchange_refused_not_overruled(self):
        self.flags(vhost_per_host=True, group='fleet')
        self.flags(control_exchange='computeagent')
        error = self.assertRaises(agentconf.FleetConfigError,
                                  agentconf.prepare, self.conf)
        self.assertIn('control_exchange', str(error))

    def test_transient_queues_refused(self):
        self.flags(vhost_per_host=True, group='fleet')
        self.flags(amqp_durable_queues=False, group='oslo_messaging_rabbit')
        error = self.assertRaises(agentconf.FleetConfigError,
                                  agentconf.prepare, self.conf)
        self.assertIn('amqp_durable_queues', str(error))
