"""oslo-config-generator hook: every option the agent registers.

oslo.messaging's and oslo.log's options come from their own namespaces,
which the generator config file names.
"""

from computeagent import conf


def list_opts():
    result = []
    for module in conf.MODULES:
        for group, opts in module.list_opts().items():
            result.append((group, opts))
    return result
