"""The figures of a run for a person: JSON per scenario, a table."""

import json
import os

TABLE_HEADER = ('| scenario | floor median | agent median | paired ratio '
                '| goal | within goal |\n'
                '| --- | ---: | ---: | ---: | --- | --- |')


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
            'yes' if result.within_goal else '**no**'))
    return '\n'.join(rows)


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
    summary = '\n\n'.join(filter(None, [
        '# Benchmarks: the agent against its floor',
        ('**A `--quick` run (n=3): a check that the bench works, not '
         'figures to judge by.**' if quick else None),
        'Each row: the agent and a floor doing the same work by hand, '
        'measured in pairs, interleaved, in one run; the ratio is the '
        'median of the paired ratios (agent / floor). Goals are those of '
        'issue 10. Raw samples: `<scenario>.json` here. Written by '
        '`tools/tox -e bench`.',
        table(results),
        'Floors:\n\n' + '\n'.join('- %s: %s' % (r.title, r.floor_label)
                                  for r in results),
        '## Machine\n\n' + _machine(start, end),
        ('## Plots\n\n' + '\n'.join('![%s](%s)' % (name[:-4], name)
                                    for name in plots)) if plots else None,
    ])) + '\n'
    with open(os.path.join(directory, 'summary.md'), 'w') as f:
        f.write(summary)
    return summary
