"""Run the scenarios, then write the figures, the table and the plots.

Run with ``tools/tox -e bench`` (root; the services start if needed) or
``python -m tools.bench [--quick] [--only NAME ...]``. The libvirt
scenarios (create, serial, delete, burst) share one agent with
``max_concurrent_builds`` 20; the message-path scenarios (messaging,
agent_cpu, startup) share one agent on the fake driver and a bare
oslo.messaging server beside it. The fleet scenario, after them, starts
its own agents and bare servers, configured alike, on a broker of its
own (:mod:`tools.bench.fleet`).
"""

import argparse
import sys

from tests.functional import fixtures
from tools.bench import agentcpu
from tools.bench import bare
from tools.bench import burst
from tools.bench import create
from tools.bench import delete
from tools.bench import fleet
from tools.bench import guests
from tools.bench import machine
from tools.bench import messaging
from tools.bench import plots
from tools.bench import report
from tools.bench import serial
from tools.bench import startup

LIBVIRT = ('create', 'serial', 'delete', 'burst')
FAKE = ('messaging', 'agent_cpu', 'startup')
FLEET = ('fleet',)


class Plan(object):
    """How much of each scenario a run does.

    :param quick: three of everything, to check that the bench works
    """

    def __init__(self, quick):
        # 40 pairs: on this shared machine a median of 20 paired ratios
        # still moved by 4% between runs of the same code.
        self.pairs = 3 if quick else 40
        self.batch = 20 if quick else 50
        if quick:
            self.levels = (1, 5, burst.AT_ONCE)
            self.rounds = {1: 1, 5: 1, burst.AT_ONCE: 3}
        else:
            self.levels = (1, 5, 10, burst.AT_ONCE)
            self.rounds = {1: 3, 5: 3, 10: 3, burst.AT_ONCE: 5}
        # The fleet: its numbers of hosts, the pairs of windows of each
        # op at each, and a window's seconds (several hundred calls).
        self.fleet_levels = (1, 2) if quick else (1, 8, 32)
        self.fleet_pairs = 3 if quick else 6
        self.fleet_window_s = 2 if quick else 3


def _agent_options(driver):
    options = {'DEFAULT': {'report_interval': 0,
                           'sync_power_state_interval': 0,
                           'debug': False,
                           'max_concurrent_builds': burst.AT_ONCE}}
    if driver == 'libvirt':
        options['libvirt'] = {'virt_type': 'qemu',
                              'connection_uri': 'qemu:///system'}
    return options


def _run_libvirt(names, plan):
    results = []
    if not names:
        return results
    with fixtures.AgentFixture('libvirt',
                               options=_agent_options('libvirt')) as agent:
        guests.write_image(agent)
        floor = guests.make_floor(agent)
        try:
            for name in names:
                print('running %s ...' % name, flush=True)
                if name == 'burst':
                    results.append(burst.run(agent, floor, plan.rounds,
                                             plan.levels))
                else:
                    module = {'create': create, 'serial': serial,
                              'delete': delete}[name]
                    results.append(module.run(agent, floor, plan.pairs))
        finally:
            floor.close()
    return results


def _run_fake(names, plan):
    results = []
    if not names:
        return results
    with fixtures.AgentFixture('fake',
                               options=_agent_options('fake')) as agent:
        guests.write_image(agent)
        server = bare.BareServer(agent)
        server.start()
        try:
            for name in names:
                print('running %s ...' % name, flush=True)
                if name == 'messaging':
                    results.append(messaging.run(agent, server, plan.pairs,
                                                 plan.batch))
                elif name == 'agent_cpu':
                    results.append(agentcpu.run(agent, server, plan.pairs,
                                                plan.batch))
                else:
                    # Both have served once, so their queues exist; both
                    # end stopped, which is why startup comes last.
                    server.call('get_host_status')
                    server.stop()
                    agent.stop()
                    results.append(startup.run(agent, server, plan.pairs))
        finally:
            server.stop()
            server.delete_queues()
    return results


def _run_fleet(names, plan):
    if 'fleet' not in names:
        return []
    print('running fleet ...', flush=True)
    return [fleet.run(plan.fleet_levels, plan.fleet_pairs,
                      plan.fleet_window_s, _agent_options('fake'))]


def main(argv=None):
    """Run the bench; returns the exit status.

    :param argv: the arguments, default ``sys.argv[1:]``
    :returns: 0 once everything is written, whether goals hold or not
    """
    parser = argparse.ArgumentParser(
        description='The agent against its floor, side by side.')
    parser.add_argument('--quick', action='store_true',
                        help='3 pairs of everything: check that the '
                             'bench works without loading the machine')
    parser.add_argument('--only', nargs='+', choices=LIBVIRT + FAKE + FLEET,
                        help='run these scenarios alone')
    parser.add_argument('--output',
                        help='directory of the results (default '
                             'bench-results, or bench-results/quick with '
                             '--quick)')
    args = parser.parse_args(argv)
    # A check that the bench works never overwrites the figures of a
    # full run, which the README shows.
    output = args.output or ('bench-results/quick' if args.quick
                             else 'bench-results')
    names = args.only or (LIBVIRT + FAKE + FLEET)
    plan = Plan(args.quick)
    fixtures.ensure_services()
    start = machine.describe()
    results = _run_libvirt([n for n in LIBVIRT if n in names], plan)
    results += _run_fake([n for n in FAKE if n in names], plan)
    results += _run_fleet(names, plan)
    end = machine.describe()
    written = plots.write(output, results)
    summary = report.write(output, results, start, end, written,
                           args.quick)
    print(summary)
    print('written to %s/' % output)
    return 0


if __name__ == '__main__':
    sys.exit(main())
