"""Configuration options, one module per option group.

Nothing is registered at import time: the console scripts and the tests
call :func:`register_opts` on the ConfigOpts they use.
"""

from oslo_config import cfg

from computeagent.conf import console
from computeagent.conf import default
from computeagent.conf import disk
from computeagent.conf import fleet
from computeagent.conf import image
from computeagent.conf import libvirt
from computeagent.conf import notifications
from computeagent.conf import serial

CONF = cfg.CONF

#: every option module, in the order the sample lists them
MODULES = (default, disk, image, libvirt, serial, notifications, fleet,
           console)


def register_opts(conf):
    """Register every option group on ``conf``; safe to call again."""
    for module in MODULES:
        module.register_opts(conf)
