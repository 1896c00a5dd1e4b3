"""Write the demo guest image: a boot sector that greets on COM1.

Run from the repository root: ``python -m tools.make_demo_image PATH``.
The image is built from the same code the tests boot, so the demo needs
no download.
"""

import sys

from tests import images

GREETING = b'Hello from a computeagent guest!\r\n'


def main(argv):
    if len(argv) != 1:
        print('usage: python -m tools.make_demo_image PATH', file=sys.stderr)
        return 2
    images.write_raw_image(argv[0], GREETING, size_mb=1)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
