"""A service's command line and configuration files, read into CONF.

The agent and the console proxy read the same options the same way:
every option of :mod:`computeagent.conf` and oslo.log's, from the
command line and ``--config-file``. A usage error is one line (argparse,
inside oslo.config, writes the whole usage before its line of error).
"""

import contextlib
import io
import sys

from oslo_log import log as logging

from computeagent.cli import errors
from computeagent import conf as agent_conf
from computeagent import version


class UsageError(Exception):
    """The command line or a configuration file is not usable.

    ``str()`` is argparse's line of error without its ``prog: error:``.
    """


def parse(argv, prog):
    """Register every option and read the command line and files.

    :param argv: the arguments (None: sys.argv[1:])
    :param prog: the console script's name, as usage errors name it
    :returns: the ConfigOpts (computeagent.conf.CONF)
    :raises: UsageError; SystemExit(0) after --help or --version
    """
    conf = agent_conf.CONF
    agent_conf.register_opts(conf)
    logging.register_options(conf)
    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):
            conf(sys.argv[1:] if argv is None else argv,
                 project='computeagent', prog=prog,
                 version=version.version_string())
    except SystemExit as done:
        if done.code != errors.USAGE:
            sys.stderr.write(usage.getvalue())
            raise
        lines = usage.getvalue().strip().splitlines() or ['usage']
        raise UsageError('%s (see %s --help)' % (
            lines[-1].replace('%s: error: ' % prog, ''), prog)) from None
    return conf


def fail(prog, message, code):
    """End with one line on stderr; returns ``code``, the exit status."""
    print('%s: error: %s' % (prog, message), file=sys.stderr)
    return code
