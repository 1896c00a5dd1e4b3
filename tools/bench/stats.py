"""What a scenario measured, and the one rule for comparing it."""

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
        (in ``unit``), for a scenario judged by an absolute figure
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
        if self.unit == 's':
            return '<= %.1f ms (agent)' % (self.goal_agent * 1000)
        return '<= %s %s (agent)' % (self.goal_agent, self.unit)

    @property
    def within_goal(self):
        if self.goal_ratio is not None:
            return self.ratio <= self.goal_ratio
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


def interleaved(count, floor_once, agent_once):
    """Run ``count`` pairs, alternating which of the two goes first.

    :param count: how many pairs
    :param floor_once: callable measuring the floor once; returns a number
    :param agent_once: callable measuring the agent once; returns a number
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
