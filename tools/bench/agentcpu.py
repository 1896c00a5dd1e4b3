"""Scenario: the agent's CPU per create + delete pair on the fake driver.

The fake driver does no hypervisor work, so what the agent process uses
is its own: messaging, validation, records, notifications. The floor is
the bare server answering the same two calls trivially; the issue's goal
is absolute (half of the 10 ms it measured), the ratio is for reading.
"""

from tools.bench import guests
from tools.bench import procstat
from tools.bench import stats

#: Half the 10 ms per pair measured in the issue, in seconds.
GOAL_S = 0.005


def _batch(call, pid, pairs):
    """CPU seconds of ``pid`` per create + delete pair sent by ``call``."""
    before = procstat.cpu_seconds(pid)
    for _ in range(pairs):
        spec = guests.spec()
        call('create_instance', spec=spec)
        call('delete_instance', uuid=spec['uuid'])
    return (procstat.cpu_seconds(pid) - before) / pairs


def run(agent, bare, count, pairs):
    """Measure ``count`` pairs of batches of ``pairs`` create + delete.

    :param agent: the fake-driver agent (an AgentFixture), started
    :param bare: a started :class:`tools.bench.bare.BareServer`
    :param count: how many pairs of batches
    :param pairs: create + delete pairs in a batch (CPU time is counted
        in clock ticks, 10 ms: a batch must be long against that)
    :returns: a :class:`tools.bench.stats.Result`
    """
    floor_s, agent_s = stats.interleaved(
        count, lambda: _batch(bare.call, bare.process.pid, pairs),
        lambda: _batch(agent.call, agent.process.pid, pairs))
    return stats.Result(
        'agent_cpu', 'CPU per create + delete pair, fake driver', 's',
        floor_s, agent_s, goal_agent=GOAL_S,
        floor_label='bare server answering the two calls',
        extra={'pairs_per_batch': pairs})
