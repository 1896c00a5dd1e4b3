"""The request rules of a letter ``boot_order`` (QEMU's ``-boot order``).

What the letters mean, and their translation into per-device boot
indexes, is :mod:`computeagent.virt.bootorder`; this module checks a
request's letters and that they are not mixed with per-device
``boot_index``.
"""

from computeagent.schema import disks as fields
from computeagent.virt import bootorder

MAX_LETTERS = len(bootorder.LETTERS)


def validate_letters(value, field='boot_order'):
    """Check a ``boot_order`` string.

    :returns: ``value``, 1 to 4 of the letters c, d, a, n, each once
    :raises: InvalidSpec naming ``field`` otherwise
    """
    fields.string(value, field, MAX_LETTERS)
    for letter in value:
        if letter not in bootorder.LETTERS:
            fields.fail(field, 'has %s, which is none of the letters %s'
                        % (fields.short(letter),
                           ', '.join(bootorder.LETTERS)))
        if value.count(letter) > 1:
            fields.fail(field, 'has the letter %s more than once' % letter)
    return value


def check_not_mixed(boot_order, devices, field='boot_order'):
    """Refuse a per-device boot index beside a letter boot order.

    :param boot_order: the spec's letters, or None
    :param devices: (path, DiskSpec or NicSpec) pairs
    :param field: what names the letters in the message
    :raises: InvalidSpec naming the first such device's ``boot_index``
    """
    if boot_order is None:
        return
    for path, device in devices:
        if device.boot_index is not None:
            fields.fail(path + '.boot_index', 'cannot be combined with '
                        '%s %r: use one or the other' % (field, boot_order))
