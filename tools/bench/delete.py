"""Scenario: delete_instance against destroy + rm by hand.

Both sides delete a guest that has booted (its marker is in its console
log), so that neither deletes a guest still in its firmware.
"""

import time

from tools.bench import guests
from tools.bench import stats

#: The issue's goal: at most 2% over the floor.
GOAL = 1.02


def _agent_once(agent):
    spec = guests.spec()
    agent.call('create_instance', spec=spec)
    guests.wait_for_marker(guests.agent_console(agent, spec['uuid']))
    start = time.monotonic()
    agent.call('delete_instance', uuid=spec['uuid'])
    return time.monotonic() - start


def _floor_once(floor):
    guest = floor.guest()
    floor.create(guest)
    guests.wait_for_marker(guest.console)
    start = time.monotonic()
    floor.remove(guest)
    return time.monotonic() - start


def run(agent, floor, count):
    """Measure ``count`` pairs of deletes.

    :param agent: the libvirt agent (an AgentFixture)
    :param floor: the :class:`tools.bench.guests.Floor` of its guests
    :param count: how many pairs
    :returns: a :class:`tools.bench.stats.Result`
    """
    floor_s, agent_s = stats.interleaved(
        count, lambda: _floor_once(floor), lambda: _agent_once(agent))
    return stats.Result(
        'delete', 'delete_instance of a booted guest', 's', floor_s,
        agent_s, goal_ratio=GOAL, floor_label='destroy + rm -r')
