"""The agent's version, from the installed distribution (pbr)."""

import pbr.version

_info = pbr.version.VersionInfo('computeagent')


def version_string():
    try:
        return _info.version_string()
    except Exception:
        # Running from a tree that was never installed: say so rather than
        # failing a status request.
        return 'unknown'
