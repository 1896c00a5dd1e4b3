"""MAC addresses of guests' nics: QEMU's own OUI, 52:54:00.

The request schema accepts only these addresses, and every driver
assigns one from here to a nic whose spec names none.
"""

import os
import re

PREFIX = '52:54:00'
_MAC_RE = re.compile(re.escape(PREFIX) + r'(:[0-9a-f]{2}){3}')


def is_guest_mac(value):
    """Whether ``value`` is a lower-case ``52:54:00:xx:xx:xx`` address.

    :param value: a string
    """
    return bool(_MAC_RE.fullmatch(value))


def generate(taken=(), rand_bytes=os.urandom):
    """A random MAC in 52:54:00:xx:xx:xx that is not in ``taken``.

    :param taken: MACs (lower case) already used by this guest
    :param rand_bytes: source of random bytes, os.urandom by default
    :returns: str, lower-case colon-separated
    """
    while True:
        mac = PREFIX + ''.join(':%02x' % octet for octet in rand_bytes(3))
        if mac not in taken:
            return mac
