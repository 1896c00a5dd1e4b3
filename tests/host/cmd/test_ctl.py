"""computeagent-ctl as its own process (a fresh interpreter)."""

import os
import subprocess
import sys

from tests import base


class TestCtlProcess(base.TestCase):
    """computeagent-ctl as its own process.

    There nothing else has registered oslo.messaging's options before it.
    """

    def test_transport_url_from_the_command_line(self):
        result = subprocess.run(
            [sys.executable, '-m', 'computeagent.cmd.ctl',
             '--transport-url', 'fake:/', '--host', 'nobody-here',
             '--timeout', '1', 'list'],
            capture_output=True, text=True, timeout=60,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                os.path.dirname(os.path.abspath(__file__))))))
        self.assertEqual((1, ''), (result.returncode, result.stdout))
        self.assertEqual("computeagent-ctl: error: no answer from the agent "
                         "of host 'nobody-here' (topic 'computeagent') "
                         "within 1 s (is it running, and is the host "
                         "right?)", result.stderr.strip())
