"""Scenario: a burst of creates at once, and throughput by concurrency.

The agent gets ``level`` create_instance calls at once and each create
is timed by its ``instance.create.end``; the floor runs ``level``
qemu-img + createXML at once from as many threads. The scenario's figure
is the mean of a round's latencies, at the issue's 20 at once; every
level's makespan gives its throughput (guests running per second).
"""

import concurrent.futures
import statistics
import time

from tools.bench import guests
from tools.bench import stats
from tools.bench import timed

#: The issue's goal: at most 5% over the floor, 20 at once.
GOAL = 1.05
AT_ONCE = 20


def _agent_round(agent, notes, pool, level):
    specs = [guests.spec() for _ in range(level)]
    uuids = [spec['uuid'] for spec in specs]
    start = time.monotonic()
    calls = [pool.submit(agent.call, 'create_instance', spec=spec)
             for spec in specs]
    try:
        ends = notes.wait('instance.create.end', uuids)
        for call in calls:
            call.result()
    finally:
        # Whatever the round made goes, even if a create failed.
        concurrent.futures.wait(calls)
        deletes = [pool.submit(agent.call, 'delete_instance', uuid=uuid)
                   for uuid in uuids]
        concurrent.futures.wait(deletes)
    return [ends[uuid] - start for uuid in uuids]


def _floor_round(floor, pool, level):
    made = [floor.guest() for _ in range(level)]
    start = time.monotonic()

    def create(guest):
        floor.create(guest)
        return time.monotonic() - start

    calls = [pool.submit(create, guest) for guest in made]
    try:
        return [call.result() for call in calls]
    finally:
        concurrent.futures.wait(calls)
        concurrent.futures.wait([pool.submit(floor.remove, guest)
                                 for guest in made
                                 if guest.domain is not None])


def run(agent, floor, rounds, levels):
    """Measure rounds of creates at once, at each level of concurrency.

    :param agent: the libvirt agent, ``max_concurrent_builds`` >= 20
    :param floor: the :class:`tools.bench.guests.Floor` of its guests
    :param rounds: ``{level: pairs of rounds}``; must include 20
    :param levels: the levels of concurrency, in order
    :returns: a :class:`tools.bench.stats.Result` of the rounds at 20;
        its extra holds every round's latencies and each level's
        makespans and throughputs
    """
    notes = timed.TimedNotifications(agent)
    by_level = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(
                max(levels) * 2) as pool:
            for level in levels:
                floor_rounds, agent_rounds = stats.interleaved(
                    rounds[level],
                    lambda: _floor_round(floor, pool, level),
                    lambda: _agent_round(agent, notes, pool, level))
                by_level[level] = {'floor_latencies_s': floor_rounds,
                                   'agent_latencies_s': agent_rounds}
    finally:
        notes.close()
    for figures in by_level.values():
        for side in ('floor', 'agent'):
            latencies = figures['%s_latencies_s' % side]
            makespans = [max(one) for one in latencies]
            figures['%s_makespan_s' % side] = makespans
            figures['%s_guests_per_s' % side] = [
                len(one) / span for one, span in zip(latencies, makespans)]
    at_once = by_level[AT_ONCE]
    return stats.Result(
        'burst', '%d creates at once (mean latency to create.end)'
        % AT_ONCE, 's',
        [statistics.mean(one) for one in at_once['floor_latencies_s']],
        [statistics.mean(one) for one in at_once['agent_latencies_s']],
        goal_ratio=GOAL,
        floor_label='%d x (qemu-img create + createXML) at once' % AT_ONCE,
        extra={'levels': {str(level): figures
                          for level, figures in by_level.items()}})
