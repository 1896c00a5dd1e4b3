"""Scenario: create_instance to running, against qemu-img + createXML."""

import time

from tools.bench import guests
from tools.bench import stats

#: The issue's goal: at most 5% over the floor.
GOAL = 1.05


def _agent_once(agent):
    uuid = guests.spec()['uuid']
    start = time.monotonic()
    record = agent.call('create_instance', spec=guests.spec(uuid))
    elapsed = time.monotonic() - start
    if record['state'] != 'running':
        raise RuntimeError('create_instance answered %s' % record)
    agent.call('delete_instance', uuid=uuid)
    return elapsed


def _floor_once(floor):
    guest = floor.guest()
    start = time.monotonic()
    floor.create(guest)
    elapsed = time.monotonic() - start
    floor.remove(guest)
    return elapsed


def run(agent, floor, count):
    """Measure ``count`` pairs of creates to running.

    The reply of ``create_instance`` comes once the guest runs; the
    floor's ``createXML`` returns once it runs too.

    :param agent: the libvirt agent (an AgentFixture)
    :param floor: the :class:`tools.bench.guests.Floor` of its guests
    :param count: how many pairs
    :returns: a :class:`tools.bench.stats.Result`; its extra holds the
        agent's ``timings`` of each create, by step
    """
    since = agent.notifications.mark()
    floor_s, agent_s = stats.interleaved(
        count, lambda: _floor_once(floor), lambda: _agent_once(agent))
    steps = {}
    for note in agent.notifications.of_type('instance.create.end',
                                            since=since):
        for step, seconds in note['payload'].get('timings', {}).items():
            steps.setdefault(step, []).append(seconds)
    return stats.Result(
        'create', 'create_instance to running', 's', floor_s, agent_s,
        goal_ratio=GOAL, floor_label='qemu-img create + createXML',
        extra={'timings_s': steps})
