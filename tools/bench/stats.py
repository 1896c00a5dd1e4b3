"""What a scenario measured, and the one rule for comparing it."""

import math
import statistics


class Result(object):
    """The samples of one scenario, agent and floor, taken in pairs.

    :param name: short name, also the JSON file's (``create``)
    :param title: what was measured, for a person
    :param unit: unit of the samples (``s``)
    :param floor: the floor's samples, one per pair
    :param agent: the agent's samples, in the same order
    :param goal_ratio: the issue's goal for the paired ratio, or None
    :param goal_agent: the issue's goal for the agent's median itself
        (in ``unit``), for a scenario judged by an absolute figure; with
        neither, a figure for reading that no goal judges
    :param floor_label: what the floor is, for a person
    :param extra: further figures and samples, kept in the JSON
    """

    def __init__(self, name, title, unit, floor, agent, goal_ratio=None,
                 goal_agent=None, floor_label='', extra=None):
        if len(floor) != len(agent) or not floor:
            raise ValueError('%s: %d floor and %d agent samples are not '
                             'pairs' % (name, len(floor), len(agent)))
        self.name = name
        self.title = title
        self.unit = unit
        self.floor = list(floor)
        self.agent = list(agent)
        self.goal_ratio = goal_ratio
        self.goal_agent = goal_agent
        self.floor_label = floor_label
        self.extra = extra or {}

    @property
    def ratios(self):
        """Each agent sample over the floor sample of its pair."""
        return [a / f for a, f in zip(self.agent, self.floor)]

    @property
    def ratio(self):
        """The median of the paired ratios: the scenario's figure.

        Single samples vary by more than the agent adds on a shared
        machine; pairs taken back to back share the machine's state of
        the moment, and their median is robust to one noisy pair.
        """
        return statistics.median(self.ratios)

    @property
    def goal_text(self):
        if self.goal_ratio is not None:
            return '<= %.2f x floor' % self.goal_ratio
        if self.goal_agent is None:
            return 'none'
        if self.unit == 's':
            return '<= %.1f ms (agent)' % (self.goal_agent * 1000)
        return '<= %s %s (agent)' % (self.goal_agent, self.unit)

    @property
    def within_goal(self):
        """Whether the goal holds; None without a goal."""
        if self.goal_ratio is not None:
            return self.ratio <= self.goal_ratio
        if self.goal_agent is None:
            return None
        return statistics.median(self.agent) <= self.goal_agent

    def as_dict(self):
        """Everything, raw samples included, for the scenario's JSON."""
        return {
            'name': self.name,
            'title': self.title,
            'unit': self.unit,
            'floor': self.floor_label,
            'pairs': len(self.agent),
            'floor_median': statistics.median(self.floor),
            'agent_median': statistics.median(self.agent),
            'paired_ratio_median': self.ratio,
            'goal': self.goal_text,
            'within_goal': self.within_goal,
            'floor_samples': self.floor,
            'agent_samples': self.agent,
            'paired_ratios': self.ratios,
            'extra': self.extra,
        }


class Sweep(object):
    """Paired figures of the agent and its floor at several levels of load.

    Each figure at each level is a :class:`Result` of its own, its pairs
    measured together; levels are compared only through their ratios.

    :param name: short name, also the JSON file's (``fleet``)
    :param title: what was measured, for a person
    :param levels: ``{level: {figure: Result}}``, levels as numbers
    :param floor_label: what the floor is, for a person
    :param extra: further figures and settings, kept in the JSON
    """

    def __init__(self, name, title, levels, floor_label='', extra=None):
        if not levels:
            raise ValueError('%s: no level measured' % name)
        self.name = name
        self.title = title
        self.levels = dict(levels)
        self.floor_label = floor_label
        self.extra = extra or {}

    def figure(self, level, name):
        """The :class:`Result` of figure ``name`` at ``level``."""
        return self.levels[level][name]

    def medians(self, name, side):
        """``[(level, median of side's samples)]`` by level, for plots.

        :param side: ``'agent'`` or ``'floor'``
        """
        return [(level, statistics.median(
            getattr(self.figure(level, name), side)))
            for level in sorted(self.levels)]

    def as_dict(self):
        """Everything, raw samples included, for the scenario's JSON."""
        return {
            'name': self.name,
            'title': self.title,
            'floor': self.floor_label,
            'levels': {str(level): {name: result.as_dict()
                                    for name, result in figures.items()}
                       for level, figures in sorted(self.levels.items())},
            'extra': self.extra,
        }


def percentile(samples, percent):
    """The nearest-rank percentile: no sample is invented between two.

    :param samples: numbers, in any order; at least one
    :param percent: 0 < percent <= 100
    :returns: the smallest sample with at least ``percent`` % of the
        samples at or below it
    """
    if not samples:
        raise ValueError('no samples')
    if not 0 < percent <= 100:
        raise ValueError('percent %r is not in (0, 100]' % (percent,))
    ordered = sorted(samples)
    return ordered[math.ceil(percent / 100 * len(ordered)) - 1]


def interleaved(count, floor_once, agent_once):
    """Run ``count`` pairs, alternating which of the two goes first.

    :param count: how many pairs
    :param floor_once: callable measuring the floor once; returns a
        number (or whatever the caller then takes apart)
    :param agent_once: callable measuring the agent once; likewise
    :returns: (floor samples, agent samples), in pair order
    """
    floor, agent = [], []
    for index in range(count):
        # Alternating the order keeps a warm cache or a slow second of
        # the machine from always favouring the same side.
        if index % 2:
            agent.append(agent_once())
            floor.append(floor_once())
        else:
            floor.append(floor_once())
            agent.append(agent_once())
    return floor, agent
