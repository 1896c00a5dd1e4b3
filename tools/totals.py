"""Add up the stestr results of the tox runs into one closing line.

stestr prints a "Totals" block per run and no single summary line, so the
whole run's figures are read from each env's log. An env that failed
without running tests (pep8, a broken install) counts as one failure, so
the closing line can never look green when something was red.
"""

import os
import re
import sys

FIELDS = {'passed': re.compile(r'^ - Passed: (\d+)', re.M),
          'failed': re.compile(r'^ - Failed: (\d+)', re.M),
          'skipped': re.compile(r'^ - Skipped: (\d+)', re.M)}


def main(log_dir, envs):
    totals = {'passed': 0, 'failed': 0, 'skipped': 0}
    for env in envs:
        try:
            with open(os.path.join(log_dir, env + '.log')) as f:
                text = f.read()
            with open(os.path.join(log_dir, env + '.rc')) as f:
                rc = int(f.read().strip() or 1)
        except (OSError, ValueError):
            text, rc = '', 1
        counts = {k: sum(int(n) for n in rx.findall(text))
                  for k, rx in FIELDS.items()}
        ran_tests = any(counts.values())
        for key in totals:
            totals[key] += counts[key]
        if rc != 0 and not counts['failed']:
            # pep8 or an env that broke before or after its tests.
            print('%s: exit status %d' % (env, rc))
            totals['failed'] += 1
        elif rc == 0 and not ran_tests and env != 'pep8':
            print('%s: ran no tests' % env)
    print('%(passed)d passed, %(failed)d failed, %(skipped)d skipped'
          % totals)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])
