"""oslo-config-generator hook: every option the agent registers.

oslo.messaging's and oslo.log's options come from their own namespaces,
which the generator config file names.
"""

from computeagent.conf import default
from computeagent.conf import disk
from computeagent.conf import image
from computeagent.conf import libvirt

_MODULES = (default, disk, image, libvirt)


def list_opts():
    result = []
    for module in _MODULES:
        for group, opts in module.list_opts().items():
            result.append((group, opts))
    return result
