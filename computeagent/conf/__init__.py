"""Configuration options, one module per option group.

Nothing is registered at import time of the option modules themselves;
:func:`register_opts` registers every group on the given ConfigOpts.
"""

from oslo_config import cfg

from computeagent.conf import default
from computeagent.conf import disk
from computeagent.conf import image
from computeagent.conf import libvirt

CONF = cfg.CONF

#: every option module, in the order the sample lists them
MODULES = (default, disk, image, libvirt)


def register_opts(conf):
    for module in MODULES:
        module.register_opts(conf)


register_opts(CONF)
