"""matplotlib PNGs of a run: distributions, steps, throughput, the fleet."""

import os
import statistics

import matplotlib

from tools.bench import stats

STEP_ORDER = ('queued', 'images', 'disks', 'design', 'start', 'spawn')


def _pyplot():
    # No display here; the backend is chosen before pyplot is imported.
    matplotlib.use('Agg')
    import matplotlib.pyplot as pyplot
    return pyplot


def latency(pyplot, results, path):
    """Agent and floor samples of every scenario, side by side."""
    columns = 3
    rows = (len(results) + columns - 1) // columns
    figure, axes = pyplot.subplots(rows, columns, squeeze=False,
                                   figsize=(4.2 * columns, 3.6 * rows))
    for ax, result in zip(axes.flat, results):
        scale, unit = (1000, 'ms') if result.unit == 's' else (1,
                                                               result.unit)
        data = [[x * scale for x in result.floor],
                [x * scale for x in result.agent]]
        ax.boxplot(data, showfliers=False)
        for index, samples in enumerate(data, start=1):
            # Every sample as a dot, spread sideways so they stay apart.
            spread = [index + 0.12 * ((i % 7) - 3) / 3
                      for i in range(len(samples))]
            ax.plot(spread, samples, '.', alpha=0.5,
                    color=('tab:gray', 'tab:blue')[index - 1])
        ax.set_xticks([1, 2])
        ax.set_xticklabels(['floor', 'agent'])
        ax.set_ylabel(unit)
        ax.set_title('%s\nratio %.3f (goal %s)' % (
            result.title, result.ratio, result.goal_text), fontsize=8)
    for ax in list(axes.flat)[len(results):]:
        ax.axis('off')
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def create_steps(pyplot, result, path):
    """Where a create's time goes: the agent's steps against the floor."""
    timings = result.extra.get('timings_s', {})
    steps = [s for s in STEP_ORDER if s in timings] + sorted(
        set(timings) - set(STEP_ORDER))
    medians = [statistics.median(timings[s]) * 1000 for s in steps]
    agent = statistics.median(result.agent) * 1000
    floor = statistics.median(result.floor) * 1000
    figure, ax = pyplot.subplots(figsize=(9, 2.8))
    left = 0
    for step, width in zip(steps, medians):
        ax.barh('agent', width, left=left, label=step)
        left += width
    # What the steps do not cover: RPC, validation, records, replies.
    ax.barh('agent', max(agent - left, 0), left=left, color='lightgray',
            label='outside the steps', hatch='//')
    ax.barh('floor', floor, color='tab:gray',
            label='floor: qemu-img + createXML')
    ax.set_xlabel('ms (medians; the steps are %d creates\' timings)'
                  % len(result.agent))
    ax.set_title('create_instance to running: agent %.0f ms, floor %.0f ms'
                 % (agent, floor))
    ax.legend(fontsize=7, ncol=4, loc='upper center',
              bbox_to_anchor=(0.5, -0.3))
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def throughput(pyplot, result, path):
    """Guests running per second by how many creates were sent at once."""
    levels = sorted(result.extra['levels'], key=int)
    figure, ax = pyplot.subplots(figsize=(6, 3.6))
    for side, colour in (('floor', 'tab:gray'), ('agent', 'tab:blue')):
        rates = [result.extra['levels'][level]['%s_guests_per_s' % side]
                 for level in levels]
        ax.plot([int(x) for x in levels],
                [statistics.median(r) for r in rates], 'o-', color=colour,
                label=side)
        for level, samples in zip(levels, rates):
            ax.plot([int(level)] * len(samples), samples, '.',
                    color=colour, alpha=0.4)
    ax.set_xlabel('creates sent at once')
    ax.set_ylabel('guests running per second')
    ax.set_title('Throughput by concurrency (median, and each round)')
    ax.legend()
    ax.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


#: The fleet's panels: figure, label, scale to the label's unit.
FLEET_PANELS = (('call_per_s', 'get_host_status calls per second', 1),
                ('call_p99_s', '99th percentile of a call (ms)', 1000),
                ('create_per_s', 'creates + deletes per second', 1))


def fleet(pyplot, sweep, path):
    """The fleet's calls/s, p99 and creates/s by number of hosts."""
    levels = sorted(sweep.levels)
    figure, axes = pyplot.subplots(1, len(FLEET_PANELS), figsize=(13, 3.8))
    for ax, (name, label, scale) in zip(axes, FLEET_PANELS):
        for side, colour in (('floor', 'tab:gray'), ('agent', 'tab:blue')):
            ax.plot(levels, [median * scale for _level, median
                             in sweep.medians(name, side)], 'o-',
                    color=colour, label=side)
            for level in levels:
                samples = getattr(sweep.figure(level, name), side)
                ax.plot([level] * len(samples), [x * scale for x in samples],
                        '.', color=colour, alpha=0.4)
        ax.set_xscale('log', base=2)
        ax.set_xticks(levels)
        ax.set_xticklabels([str(level) for level in levels])
        ax.minorticks_off()
        ax.set_ylim(bottom=0)
        ax.set_xlabel('hosts (agents, or bare servers)')
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend()
    figure.suptitle('%s (median, and each window); %d calls in flight'
                    % (sweep.title, sweep.extra['calls_in_flight']),
                    fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def write(directory, results):
    """Write every plot the results allow.

    :param directory: the output directory (made if missing)
    :param results: the :class:`tools.bench.stats.Result` of each scenario
    :returns: the file names written, in ``directory``
    """
    os.makedirs(directory, exist_ok=True)
    pyplot = _pyplot()
    by_name = {result.name: result for result in results}
    written = []
    # The samples of each Result; a Sweep has a plot of its own.
    single = [r for r in results if isinstance(r, stats.Result)]
    if single:
        latency(pyplot, single, os.path.join(directory, 'latency.png'))
        written.append('latency.png')
    if 'create' in by_name:
        create_steps(pyplot, by_name['create'],
                     os.path.join(directory, 'create_steps.png'))
        written.append('create_steps.png')
    if 'burst' in by_name:
        throughput(pyplot, by_name['burst'],
                   os.path.join(directory, 'throughput.png'))
        written.append('throughput.png')
    if 'fleet' in by_name:
        fleet(pyplot, by_name['fleet'], os.path.join(directory, 'fleet.png'))
        written.append('fleet.png')
    return written
