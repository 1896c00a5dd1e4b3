"""The systemd unit agrees with setup.cfg, the install script and config.

The unit (etc/computeagent/computeagent.service) names paths that three
other files decide: the console script (setup.cfg), the virtualenv, user
and configuration file (tools/install-agent.sh) and the state directory
(the options' defaults). A change to any of them must show here.
"""

import configparser
import os
import re
import shlex

from computeagent.conf import default as default_opts
from computeagent.conf import image as image_opts
from tests import base

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
UNIT = os.path.join(TOP, 'etc', 'computeagent', 'computeagent.service')
INSTALL = os.path.join(TOP, 'tools', 'install-agent.sh')


def _read_unit():
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    with open(UNIT) as f:
        parser.read_file(f)
    return parser


def _install_variable(name):
    """A plain ``NAME=value`` assignment of tools/install-agent.sh."""
    with open(INSTALL) as f:
        match = re.search(r'^%s=(\S+)$' % name, f.read(), re.MULTILINE)
    if match is None:
        raise AssertionError('%s sets no %s' % (INSTALL, name))
    return match.group(1)


def _console_scripts():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(TOP, 'setup.cfg'))
    scripts = parser.get('entry_points', 'console_scripts')
    return {line.split('=')[0].strip()
            for line in scripts.splitlines() if line.strip()}


def _default(opts, name):
    for opt in opts:
        if opt.name == name:
            return opt.default
    raise AssertionError('no option %s' % name)


def _under(path, directories):
    return any(os.path.commonpath([path, d]) == d for d in directories)


class TestUnit(base.TestCase):

    def setUp(self):
        super().setUp()
        self.unit = _read_unit()
        self.service = self.unit['Service']

    def test_exec_start_is_the_installed_agent(self):
        argv = shlex.split(self.service['ExecStart'])
        venv = _install_variable('VENV')
        self.assertEqual(os.path.join(venv, 'bin'),
                         os.path.dirname(argv[0]))
        self.assertIn(os.path.basename(argv[0]), _console_scripts())
        self.assertEqual('computeagent', os.path.basename(argv[0]))
        self.assertEqual(['--config-file', _install_variable('CONF')
                          .replace('$CONF_DIR',
                                   _install_variable('CONF_DIR'))],
                         argv[1:])

    def test_user_and_groups_are_the_install_scripts(self):
        user = _install_variable('AGENT_USER')
        self.assertEqual(user, self.service['User'])
        self.assertEqual(user, self.service['Group'])
        # The read-write libvirtd socket is root:libvirt 0770.
        self.assertIn('libvirt', self.service['SupplementaryGroups'].split())

    def test_defaults_are_writable_under_the_hardening(self):
        self.assertEqual('strict', self.service['ProtectSystem'])
        writable = self.service['ReadWritePaths'].split()
        self.assertIn(_install_variable('HOME_DIR'), writable)
        for path in (_default(default_opts.opts, 'instances_path'),
                     _default(image_opts.opts, 'directory')):
            self.assertTrue(_under(path, writable), path)

    def test_stop_outlasts_the_graceful_shutdown(self):
        self.assertEqual('SIGTERM', self.service['KillSignal'])
        self.assertGreater(
            int(self.service['TimeoutStopSec']),
            _default(default_opts.opts, 'graceful_shutdown_timeout'))

    def test_one_capability_only(self):
        self.assertEqual('CAP_DAC_READ_SEARCH',
                         self.service['AmbientCapabilities'])
        self.assertEqual('CAP_DAC_READ_SEARCH',
                         self.service['CapabilityBoundingSet'])
        self.assertEqual('yes', self.service['NoNewPrivileges'])
