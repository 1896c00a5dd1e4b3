"""The bench's arithmetic and its fleet table (no process, no broker)."""

from tests import base
from tools.bench import report
from tools.bench import stats


class TestPercentile(base.TestCase):

    def test_nearest_rank(self):
        samples = list(range(100, 0, -1))
        self.assertEqual(99, stats.percentile(samples, 99))
        self.assertEqual(50, stats.percentile(samples, 50))
        self.assertEqual(100, stats.percentile(samples, 100))
        self.assertEqual(1, stats.percentile(samples, 0.5))

    def test_few_samples_give_the_largest(self):
        self.assertEqual(3, stats.percentile([3, 1, 2], 99))
        self.assertEqual(7, stats.percentile([7], 50))

    def test_refused(self):
        self.assertRaises(ValueError, stats.percentile, [], 50)
        self.assertRaises(ValueError, stats.percentile, [1], 0)
        self.assertRaises(ValueError, stats.percentile, [1], 101)


class TestNoGoal(base.TestCase):

    def test_a_figure_for_reading(self):
        result = stats.Result('x', 'x', '/s', [10, 20], [5, 30])
        self.assertEqual('none', result.goal_text)
        self.assertIsNone(result.within_goal)
        self.assertEqual(1.0, result.ratio)
        self.assertIsNone(result.as_dict()['within_goal'])


def _sweep():
    figures = {}
    for level, scale in ((1, 1.0), (8, 2.0)):
        values = {'call_per_s': ([100, 110, 90], [90, 100, 90]),
                  'call_p99_s': ([0.010, 0.012, 0.011],
                                 [0.020, 0.020, 0.022]),
                  'create_per_s': ([50, 52, 48], [10, 12, 11])}
        for noun in ('call', 'create'):
            for part in ('server', 'broker', 'load'):
                values['%s_%s_cpu_s' % (noun, part)] = ([0.001] * 3,
                                                        [0.002] * 3)
        figures[level] = {
            name: stats.Result('fleet', name, 's', [x * scale for x in f],
                               [x * scale for x in a])
            for name, (f, a) in values.items()}
    return stats.Sweep(
        'fleet', 'A fleet', figures, floor_label='bare servers',
        extra={'rss_mib': {'1': {'agent': [60], 'floor': [50]},
                           '8': {'agent': [61, 63, 62], 'floor': [50]}},
               'load_processes': 2, 'load_threads': 16,
               'calls_in_flight': 32, 'pairs': 3, 'window_s': 2})


class TestSweep(base.TestCase):

    def test_medians_by_level(self):
        self.assertEqual([(1, 100), (8, 200)],
                         _sweep().medians('call_per_s', 'floor'))

    def test_as_dict_keys_levels_as_text(self):
        figures = _sweep().as_dict()
        self.assertEqual(['1', '8'], list(figures['levels']))
        self.assertEqual(
            [90.0, 100.0, 90.0],
            figures['levels']['1']['call_per_s']['agent_samples'])

    def test_no_level_is_refused(self):
        self.assertRaises(ValueError, stats.Sweep, 'fleet', 'x', {})


class TestFleetTables(base.TestCase):

    def test_a_row_per_level(self):
        figures, cpu = report.fleet_tables(_sweep())
        rows = figures.splitlines()
        self.assertEqual(4, len(rows))
        # Paired ratios 0.9, 0.909, 1.0 (creates 0.2, 0.231, 0.229): the
        # medians.
        self.assertEqual('| 1 | 90 | 100 | 0.909 | 20.0 / 11.0 ms | 11.0 '
                         '| 50.0 | 0.229 | 60 / 50 MiB |', rows[2])
        self.assertTrue(rows[3].startswith('| 8 | 180 | 200 | 0.909 |'))
        self.assertIn('| 8 | create + delete | 4.00 / 2.00 ms | 4.00 / '
                      '2.00 ms | 4.00 / 2.00 ms |', cpu)
