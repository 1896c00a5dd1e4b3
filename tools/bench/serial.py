"""Scenario: create to the guest's first serial output, against the floor.

The bench guest's boot sector prints a marker on COM1 as its first act;
the time to it includes what the guest needs to boot, which neither side
can shorten, and shows whether anything the agent does after the start
(its record, its notifications) delays the guest.
"""

import threading
import time

from tools.bench import guests
from tools.bench import stats

#: The issue's goal: at most 5% over the floor.
GOAL = 1.05


def _until_marker(console, action):
    """Run ``action`` meanwhile; seconds from its start to the marker."""
    failures = []

    def act():
        try:
            action()
        except Exception as exc:  # reported below, in this thread
            failures.append(exc)

    start = time.monotonic()
    thread = threading.Thread(target=act)
    thread.start()
    try:
        seen = guests.wait_for_marker(console)
    finally:
        thread.join()
    if failures:
        raise failures[0]
    return seen - start


def _agent_once(agent):
    spec = guests.spec()
    elapsed = _until_marker(
        guests.agent_console(agent, spec['uuid']),
        lambda: agent.call('create_instance', spec=spec))
    agent.call('delete_instance', uuid=spec['uuid'])
    return elapsed


def _floor_once(floor):
    guest = floor.guest()
    elapsed = _until_marker(guest.console, lambda: floor.create(guest))
    floor.remove(guest)
    return elapsed


def run(agent, floor, count):
    """Measure ``count`` pairs of creates to the first serial output.

    :param agent: the libvirt agent (an AgentFixture)
    :param floor: the :class:`tools.bench.guests.Floor` of its guests
    :param count: how many pairs
    :returns: a :class:`tools.bench.stats.Result`
    """
    floor_s, agent_s = stats.interleaved(
        count, lambda: _floor_once(floor), lambda: _agent_once(agent))
    return stats.Result(
        'serial', 'create to first serial output', 's', floor_s, agent_s,
        goal_ratio=GOAL,
        floor_label='createXML, marker in console.log')
