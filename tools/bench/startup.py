"""Scenario: from starting the process to its first answer.

The call is sent just after the process starts, to a queue that exists
from an earlier start (queues outlive their consumer), so it waits there
and is answered as soon as the server consumes: the time is the
process's own start-up, not a polling interval of the bench.
"""

import time

from tools.bench import stats

#: The issue's goal: at most 10% over a bare server's start.
GOAL = 1.10
TIMEOUT_S = 120


def _agent_once(agent):
    start = time.monotonic()
    agent.start(wait=False)
    try:
        agent.call('get_host_status', rpc_timeout=TIMEOUT_S)
        return time.monotonic() - start
    finally:
        agent.stop()


def _floor_once(bare):
    start = time.monotonic()
    bare.start(wait=False)
    try:
        bare.client.prepare(timeout=TIMEOUT_S).call({}, 'get_host_status')
        return time.monotonic() - start
    finally:
        bare.stop()


def run(agent, bare, count):
    """Measure ``count`` pairs of starts; both end stopped.

    :param agent: the fake-driver agent (an AgentFixture), stopped
        after having served once
    :param bare: a :class:`tools.bench.bare.BareServer`, stopped
        after having served once
    :param count: how many pairs
    :returns: a :class:`tools.bench.stats.Result`
    """
    floor_s, agent_s = stats.interleaved(
        count, lambda: _floor_once(bare), lambda: _agent_once(agent))
    return stats.Result(
        'startup', 'process start to its first answer', 's', floor_s,
        agent_s, goal_ratio=GOAL,
        floor_label='bare oslo.messaging server process')
