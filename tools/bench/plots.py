"""matplotlib PNGs of a run: distributions, a create's steps, throughput."""

import os
import statistics

import matplotlib

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
    latency(pyplot, results, os.path.join(directory, 'latency.png'))
    written.append('latency.png')
    if 'create' in by_name:
        create_steps(pyplot, by_name['create'],
                     os.path.join(directory, 'create_steps.png'))
        written.append('create_steps.png')
    if 'burst' in by_name:
        throughput(pyplot, by_name['burst'],
                   os.path.join(directory, 'throughput.png'))
        written.append('throughput.png')
    return written
