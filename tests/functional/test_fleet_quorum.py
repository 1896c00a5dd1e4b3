"""Quorum queues (``[oslo_messaging_rabbit] rabbit_quorum_queue``).

The agents of a FleetBed (tests/functional/test_fleet_isolation.py), in
their own vhosts, declare their request and notification queues as
quorum queues, RabbitMQ's replicated queue type for a cluster. On one
node the replication cannot be shown; what the agent relies on can: the
queues are of that type under the fleet's permissions, and a request
sent while the agent is down survives a restart of the broker and runs
when the agent is back.
"""

import json
import time

from tests.functional import test_fleet_isolation as fleet_tests

WAIT = 120


class TestQuorumQueues(fleet_tests.FleetTestCase):

    bed_options = {'rabbit_options': {'rabbit_quorum_queue': True}}

    def queue_types(self, host):
        listing = self.bed.broker.ctl(
            'list_queues', '-p', self.bed.vhost(host), 'name', 'type',
            '--formatter', 'json', '--silent')
        return {row['name']: row['type'] for row in json.loads(listing)}

    def test_requests_and_notifications_wait_in_quorum_queues(self):
        spec = self.spec()
        self.agent_a.call('create_instance', spec=spec)
        self.agent_a.call('delete_instance', uuid=spec['uuid'])
        types = self.queue_types(self.a)
        for queue in ('computeagent', 'computeagent.%s' % self.a,
                      'notifications.info'):
            self.assertEqual('quorum', types.get(queue), types)

    def test_a_request_outlives_the_agent_and_a_broker_restart(self):
        agent = self.agent_a
        agent.stop()
        self.addCleanup(self.restart_agent, agent)
        spec = self.spec()
        agent.cast('create_instance', spec=spec)
        self.bed.broker.stop()
        self.bed.broker.start()
        agent.start()
        deadline = time.monotonic() + WAIT
        while not [r for r in agent.call('list_instances')
                   if r['uuid'] == spec['uuid'] and
                   r['state'] == 'running']:
            if time.monotonic() > deadline:
                raise AssertionError('the create cast before the restart '
                                     'did not run:\n%s' % agent.log_tail())
            time.sleep(0.2)
        agent.call('delete_instance', uuid=spec['uuid'])

    @staticmethod
    def restart_agent(agent):
        """Leave the shared bed's agent running for the next test."""
        if agent.process is None or agent.process.poll() is not None:
            agent.start()
