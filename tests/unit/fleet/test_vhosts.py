"""The fleet's permissions, read the way RabbitMQ reads them.

RabbitMQ matches each permission, a regular expression, against a whole
resource name (its patterns are anchored here); Python's ``re`` reads
these patterns as Erlang's PCRE does. Each test names what a user must
and must not reach: a grant that reached another host's names would let
one compute node command another.
"""

import re

from computeagent.fleet import vhosts
from tests import base

T = 'computeagent'


def allows(pattern, name):
    return re.search(pattern, name) is not None


class TestNames(base.TestCase):

    def test_vhost_of_a_host(self):
        self.assertEqual('computeagent-node-1.example',
                         vhosts.vhost_name(T, 'node-1.example'))

    def test_names_that_cannot_be_users_and_vhosts(self):
        for bad in ('', '-node', 'node 1', 'node/1', 'a' * 300, 'nöde',
                    'node\n', None):
            self.assertRaises(vhosts.InvalidHostName, vhosts.vhost_name,
                              T, bad)


class TestHostGrant(base.TestCase):

    def setUp(self):
        super().setUp()
        self.grant = vhosts.host_grant(T, 'node1')

    def test_in_its_own_vhost_as_itself(self):
        self.assertEqual(('node1', 'computeagent-node1'),
                         (self.grant.user, self.grant.vhost))

    def test_declares_and_consumes_its_own_queues(self):
        for name in ('computeagent', 'computeagent.node1',
                     'computeagent_fanout_0123abcd', 'computeagent_fanout'):
            self.assertTrue(allows(self.grant.configure, name), name)
            self.assertTrue(allows(self.grant.read, name), name)

    def test_no_other_hosts_queues(self):
        for name in ('computeagent.node2', 'computeagent.node1x',
                     'computeagent.node1.x', 'xcomputeagent.node1',
                     'reply_0123', 'notifications_x'):
            for right in ('configure', 'write', 'read'):
                self.assertFalse(allows(getattr(self.grant, right), name),
                                 (right, name))

    def test_answers_calls_but_reads_no_notifications(self):
        self.assertTrue(allows(self.grant.write, 'amq.default'))
        self.assertFalse(allows(self.grant.configure, 'amq.default'))
        self.assertTrue(allows(self.grant.write, 'notifications.info'))
        self.assertFalse(allows(self.grant.read, 'notifications.info'))

    def test_publishes_only_notifications_to_the_exchange(self):
        self.assertTrue(allows(self.grant.topic_write, 'notifications.info'))
        for key in ('computeagent', 'computeagent.node1',
                    'computeagent.node2', 'notifications'):
            self.assertFalse(allows(self.grant.topic_write, key), key)

    def test_regular_expression_characters_in_the_name_are_literal(self):
        grant = vhosts.host_grant(T, 'a.b')
        self.assertTrue(allows(grant.read, 'computeagent.a.b'))
        self.assertFalse(allows(grant.read, 'computeagent.aXb'))


class TestControllerGrant(base.TestCase):

    def setUp(self):
        super().setUp()
        self.grant = vhosts.controller_grant(T, 'node1', 'ctrl')

    def test_in_the_hosts_vhost(self):
        self.assertEqual(('ctrl', 'computeagent-node1'),
                         (self.grant.user, self.grant.vhost))

    def test_sends_requests_to_the_host(self):
        self.assertTrue(allows(self.grant.write, 'amq.topic'))
        self.assertTrue(allows(self.grant.topic_write, 'computeagent.node1'))

    def test_never_consumes_the_hosts_requests(self):
        for name in ('computeagent', 'computeagent.node1',
                     'computeagent_fanout_0123'):
            self.assertFalse(allows(self.grant.read, name), name)
            self.assertFalse(allows(self.grant.configure, name), name)

    def test_own_replies_and_the_hosts_notifications(self):
        for name in ('reply_0123abcd', 'notifications.info'):
            self.assertTrue(allows(self.grant.configure, name), name)
            self.assertTrue(allows(self.grant.read, name), name)
        self.assertTrue(allows(self.grant.topic_read, 'notifications.error'))
        self.assertFalse(allows(self.grant.topic_write, 'notifications.info'))


class TestPeerGrant(base.TestCase):
    """node2's rights in node1's vhost, to ask for a live migration."""

    def setUp(self):
        super().setUp()
        self.grant = vhosts.peer_grant(T, 'node1', 'node2')

    def test_in_the_hosts_vhost_as_the_peer(self):
        self.assertEqual(('node2', 'computeagent-node1'),
                         (self.grant.user, self.grant.vhost))

    def test_asks_on_the_peer_topic_only(self):
        self.assertTrue(allows(self.grant.topic_write,
                               'computeagent-peer.node1'))
        for key in ('computeagent.node1', 'computeagent',
                    'computeagent-peer', 'computeagent-peer.node3',
                    'notifications.info'):
            self.assertFalse(allows(self.grant.topic_write, key), key)

    def test_no_queue_of_the_host_and_no_default_exchange(self):
        for name in ('computeagent', 'computeagent.node1',
                     'computeagent-peer', 'computeagent-peer.node1',
                     'computeagent_fanout_0123', 'notifications.info'):
            for right in ('configure', 'write', 'read'):
                self.assertFalse(allows(getattr(self.grant, right), name),
                                 (right, name))
        self.assertFalse(allows(self.grant.write, 'amq.default'))

    def test_reads_its_answers(self):
        self.assertTrue(allows(self.grant.read, 'reply_0123abcd'))
        self.assertFalse(allows(self.grant.topic_read, 'computeagent'))


class TestHostServesThePeerTopic(base.TestCase):

    def test_its_peer_queues(self):
        grant = vhosts.host_grant(T, 'node1')
        for name in ('computeagent-peer', 'computeagent-peer.node1',
                     'computeagent-peer_fanout',
                     'computeagent-peer_fanout_0123'):
            self.assertTrue(allows(grant.configure, name), name)
            self.assertTrue(allows(grant.read, name), name)
        self.assertTrue(allows(grant.topic_read, 'computeagent-peer.node1'))
        self.assertFalse(allows(grant.read, 'computeagent-peer.node2'))
