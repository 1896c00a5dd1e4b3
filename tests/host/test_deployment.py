"""The systemd unit passes ``systemd-analyze verify``.

The unit's content is checked against setup.cfg, the install script and
the options in tests/unit/test_deployment.py; this runs systemd's own
checker on it, a host tool.
"""

import os
import shlex
import shutil
import subprocess

from tests import base
from tests.unit import test_deployment as unit_deployment


class TestUnit(base.TestCase):

    def setUp(self):
        super().setUp()
        self.service = unit_deployment._read_unit()['Service']

    def test_systemd_analyze_verify(self):
        analyze = shutil.which('systemd-analyze')
        if analyze is None:
            self.skipTest('systemd-analyze is not installed (package '
                          'systemd, which libvirt-daemon-system pulls in)')
        # verify insists that ExecStart exists; the path itself is
        # checked by the unit tier, so a stand-in executable takes its place.
        stand_in = os.path.join(self.tmp, 'computeagent')
        with open(stand_in, 'w') as f:
            f.write('#!/bin/sh\n')
        os.chmod(stand_in, 0o755)
        argv = shlex.split(self.service['ExecStart'])
        with open(unit_deployment.UNIT) as f:
            text = f.read().replace('ExecStart=' + argv[0],
                                    'ExecStart=' + stand_in)
        copy = os.path.join(self.tmp, 'computeagent.service')
        with open(copy, 'w') as f:
            f.write(text)
        result = subprocess.run([analyze, 'verify', '--man=no', copy],
                                capture_output=True, text=True, timeout=60)
        # Unknown keys are only warnings (exit 0): none is allowed.
        self.assertEqual((0, ''), (result.returncode, result.stderr.strip()),
                         result.stdout)
