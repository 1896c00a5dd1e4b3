"""The figures of a run for a person: JSON per scenario, a table."""

import json
import os
import statistics

from tools.bench import stats

TABLE_HEADER = ('| scenario | floor median | agent median | paired ratio '
                '| goal | within goal |\n'
                '| --- | ---: | ---: | ---: | --- | --- |')


FLEET_HEADER = ('| hosts | agent calls/s | floor calls/s | ratio '
                '| p99 of a call, agent / floor | agent creates/s '
                '| floor creates/s | ratio | RSS per agent / floor server '
                '|\n'
                '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: '
                '| ---: |')
FLEET_CPU_HEADER = ('| hosts | op | servers, agent / floor '
                    '| broker, agent / floor | load, agent / floor |\n'
                    '| ---: | --- | ---: | ---: | ---: |')


def _figure(value, unit):
    if unit == 's':
        return '%.1f ms' % (value * 1000)
    return '%.3g %s' % (value, unit)


def table(results):
    """The summary table, in Markdown.

    :param results: the :class:`tools.bench.stats.Result` of each scenario
    :returns: the table's text
    """
    rows = [TABLE_HEADER]
    for result in results:
        figures = result.as_dict()
        rows.append('| %s (n=%d) | %s | %s | %.3f | %s | %s |' % (
            result.title, figures['pairs'],
            _figure(figures['floor_median'], result.unit),
            _figure(figures['agent_median'], result.unit),
            result.ratio, result.goal_text,
            {True: 'yes', False: '**no**', None: ''}[result.within_goal]))
    return '\n'.join(rows)


def _medians(result):
    return statistics.median(result.agent), statistics.median(result.floor)


def fleet_tables(sweep):
    """The fleet's figures by number of hosts, and its CPU per call.

    :param sweep: the :class:`tools.bench.stats.Sweep` of
        :mod:`tools.bench.fleet`
    :returns: the two tables' text, in Markdown
    """
    rows = [FLEET_HEADER]
    cpu_rows = [FLEET_CPU_HEADER]
    for level in sorted(sweep.levels):
        calls = sweep.figure(level, 'call_per_s')
        creates = sweep.figure(level, 'create_per_s')
        rss = sweep.extra['rss_mib'][str(level)]
        rows.append(
            '| %d | %.0f | %.0f | %.3f | %.1f / %.1f ms | %.1f | %.1f '
            '| %.3f | %.0f / %.0f MiB |' % (
                (level,) + _medians(calls) + (calls.ratio,) + tuple(
                    x * 1000 for x in _medians(
                        sweep.figure(level, 'call_p99_s'))) +
                _medians(creates) + (creates.ratio,
                                     statistics.median(rss['agent']),
                                     statistics.median(rss['floor']))))
        for noun, op in (('call', 'get_host_status'),
                         ('create', 'create + delete')):
            cpu_rows.append('| %d | %s | %s |' % (level, op, ' | '.join(
                '%.2f / %.2f ms' % tuple(x * 1000 for x in _medians(
                    sweep.figure(level, '%s_%s_cpu_s' % (noun, part))))
                for part in ('server', 'broker', 'load'))))
    return '\n'.join(rows), '\n'.join(cpu_rows)


def fleet_section(sweep):
    """The fleet's section of the summary, in Markdown."""
    extra = sweep.extra
    figures, cpu = fleet_tables(sweep)
    return '\n\n'.join([
        '## %s' % sweep.title,
        'N agents (fake driver), each with its host name and vhost, '
        'against %s, on a RabbitMQ node of the scenario\'s own; the '
        'controller\'s client calls both. Load: %d processes of %d '
        'threads, %d calls in flight at every N, each thread calling the '
        'hosts in turn. Every figure is the median of %d windows of %s s '
        'on each side, agent and floor alternating; a ratio is the '
        'median of the paired ratios (agent / floor: below 1, the agents '
        'answer fewer). p99: the 99th percentile latency of a window\'s '
        'calls. creates/s: create_instance and its delete_instance, two '
        'calls; the floor answers the same two calls with the same spec. '
        'RSS: median resident memory of one server after the level.' % (
            sweep.floor_label, extra['load_processes'],
            extra['load_threads'], extra['calls_in_flight'],
            extra['pairs'], extra['window_s']),
        figures,
        'CPU per call (per create + delete pair), medians: the N servers '
        'of the side, the broker, the load generator.',
        cpu,
    ])


def _machine(start, end):
    return '\n'.join([
        '- %s, %d CPUs, %d MiB of memory; kernel %s' % (
            start['cpu_model'], start['cpus'], start['memory_mib'],
            start['kernel']),
        '- libvirt %s (libvirt-python %s), QEMU %s (TCG guests); '
        'Python %s' % (start['libvirtd'], start['libvirt_python'],
                       start['qemu'], start['python']),
        '- load average (1, 5, 15 min) at start %s, at end %s' % (
            ', '.join('%.2f' % x for x in start['load_average']),
            ', '.join('%.2f' % x for x in end['load_average'])),
        '- commit %s; run from %s to %s UTC' % (
            start['commit'], start['date_utc'], end['date_utc']),
    ])


def write(directory, results, start, end, plots, quick):
    """Write each scenario's JSON and ``summary.md``.

    :param directory: the output directory (made if missing)
    :param results: the :class:`tools.bench.stats.Result` of each scenario
    :param start: :func:`tools.bench.machine.describe` at the start
    :param end: the same at the end
    :param plots: file names of the plots written in ``directory``
    :param quick: whether this was a ``--quick`` run
    :returns: the summary's text
    """
    os.makedirs(directory, exist_ok=True)
    for result in results:
        figures = dict(result.as_dict(), machine_start=start,
                       machine_end=end, quick=quick)
        with open(os.path.join(directory, result.name + '.json'), 'w') as f:
            json.dump(figures, f, indent=2)
    # The goals' table has a row per Result; a Sweep has a section.
    rows = [r for r in results if isinstance(r, stats.Result)]
    summary = '\n\n'.join(filter(None, [
        '# Benchmarks: the agent against its floor',
        ('**A `--quick` run (n=3): a check that the bench works, not '
         'figures to judge by.**' if quick else None),
        'Each row: the agent and a floor doing the same work by hand, '
        'measured in pairs, interleaved, in one run; the ratio is the '
        'median of the paired ratios (agent / floor). Goals are those of '
        'issue 10. Raw samples: `<scenario>.json` here. Written by '
        '`tools/tox -e bench`.',
        table(rows) if rows else None,
        'Floors:\n\n' + '\n'.join('- %s: %s' % (r.title, r.floor_label)
                                  for r in results),
    ] + [fleet_section(r) for r in results if r.name == 'fleet'] + [
        '## Machine\n\n' + _machine(start, end),
        ('## Plots\n\n' + '\n'.join('![%s](%s)' % (name[:-4], name)
                                    for name in plots)) if plots else None,
    ])) + '\n'
    with open(os.path.join(directory, 'summary.md'), 'w') as f:
        f.write(summary)
    return summary
