"""``python -m tools.bench``: the entry of ``tools/tox -e bench``."""

import sys

from tools.bench import runner

sys.exit(runner.main())
