"""Scenario: the message path, a call round trip to the agent.

The agent (fake driver, so no hypervisor work) and a bare oslo.messaging
server with a trivial endpoint are called from the same client; each
sample is the mean round trip of a batch of calls, so that one slow
call of a shared machine weighs little. The CPU each server used per
call is kept too.
"""

import time

from tools.bench import procstat
from tools.bench import stats

#: The issue's goal: every path at most 5% over its floor.
GOAL = 1.05
METHOD = 'get_host_status'


def _batch(call, pid, size):
    """Mean seconds per call and CPU seconds per call of ``pid``."""
    cpu = procstat.cpu_seconds(pid)
    start = time.monotonic()
    for _ in range(size):
        call(METHOD)
    elapsed = time.monotonic() - start
    return elapsed / size, (procstat.cpu_seconds(pid) - cpu) / size


def run(agent, bare, count, batch):
    """Measure ``count`` pairs of batches of round trips.

    :param agent: the fake-driver agent (an AgentFixture), started
    :param bare: a started :class:`tools.bench.bare.BareServer`
    :param count: how many pairs of batches
    :param batch: calls in a batch
    :returns: a :class:`tools.bench.stats.Result`
    """
    # The first calls of each set up reply queues and connections.
    agent.call(METHOD)
    bare.call(METHOD)
    cpu = {'floor': [], 'agent': []}

    def floor_once():
        seconds, used = _batch(bare.call, bare.process.pid, batch)
        cpu['floor'].append(used)
        return seconds

    def agent_once():
        seconds, used = _batch(agent.call, agent.process.pid, batch)
        cpu['agent'].append(used)
        return seconds

    floor_s, agent_s = stats.interleaved(count, floor_once, agent_once)
    return stats.Result(
        'messaging', 'call round trip (%s, mean of %d)' % (METHOD, batch),
        's', floor_s, agent_s, goal_ratio=GOAL,
        floor_label='bare oslo.messaging server, trivial endpoint',
        extra={'batch': batch, 'floor_cpu_s_per_call': cpu['floor'],
               'agent_cpu_s_per_call': cpu['agent']})
