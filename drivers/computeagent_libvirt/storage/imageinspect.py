"""Inspection of every image before anything uses it.

Two independent looks at the file: first oslo.utils' format inspector,
which reads only headers, in Python, so no QEMU parser sees a file it
refuses; then ``qemu-img info`` opened with the format the inspector
established (never probed), under resource limits, as a cross-check.

Accepted: qcow2 with no backing file, no external data file and no
unknown features; and raw. What the inspector calls ``gpt`` (any disk
with an MBR or GPT, which is how it names a raw disk with a partition
table) and ``iso`` (ISO 9660 / UDF, a cdrom image) are raw to QEMU, and
so is content it does not recognise at all (``raw``). A hybrid ISO (an
ISO 9660 image that also carries an MBR so it can be written to a USB
stick, as most distribution ISOs are) matches both ``iso`` and ``gpt``;
the inspector refuses that as "multiple formats", and it is accepted here
as raw: QEMU never interprets a raw image's content, so the only danger
of an ambiguous detection, a format QEMU would parse, is not among them.
Every other format (vmdk, vhd, vhdx, vdi, qed, luks) is refused even
when its own safety check passes: QEMU's parsers for them are attack
surface the agent has no use for.
"""

import os

from oslo_log import log as logging
from oslo_utils.imageutils import format_inspector
from oslo_utils import units

from computeagent import exception
from computeagent_libvirt.storage import qemuimg

LOG = logging.getLogger(__name__)

#: inspector name -> the format QEMU opens the image as
FORMAT_OF = {
    'qcow2': 'qcow2',
    'raw': 'raw',
    'gpt': 'raw',
    'iso': 'raw',
}
_HYBRID_ISO = {'iso', 'gpt'}


def _detect(path, ref):
    """The inspector that matches ``path``'s content."""
    try:
        return format_inspector.detect_file_format(path)
    except format_inspector.ImageFormatError as error:
        inspector = _hybrid_iso(path)
        if inspector is None:
            raise exception.ImageUnsafe(image=ref, reason=str(error))
        LOG.debug('Image %s is a hybrid ISO (iso and gpt)', ref)
        return inspector


def _hybrid_iso(path):
    # detect_file_format only says "multiple formats"; ask again for the
    # list of matches to tell a hybrid ISO from a real ambiguity.
    with open(path, 'rb') as f:
        wrapper = format_inspector.InspectWrapper(f)
        try:
            while wrapper.formats is None:
                if not wrapper.read(64 * units.Ki):
                    break
        finally:
            wrapper.close()
        matches = wrapper.formats or []
    if {str(m) for m in matches} == _HYBRID_ISO and len(matches) == 2:
        return [m for m in matches if str(m) == 'iso'][0]
    return None


def _safety_check(inspector, ref):
    try:
        inspector.safety_check()
    except format_inspector.SafetyCheckFailed as error:
        reasons = '; '.join('%s: %s' % (name, failure)
                            for name, failure in sorted(
                                error.failures.items()))
        raise exception.ImageUnsafe(
            image=ref, reason='%s safety check failed (%s)'
                              % (inspector, reasons))
    except format_inspector.ImageFormatError as error:
        raise exception.ImageUnsafe(image=ref, reason=str(error))


def _check_with_qemu_img(conf, path, ref, fmt, limit):
    try:
        info = qemuimg.info(conf, path, fmt)
    except exception.DriverError as error:
        raise exception.ImageUnsafe(
            image=ref, reason='qemu-img cannot open it as %s: %s'
                              % (fmt, error.kwargs.get('reason', error)))
    if info.get('format') != fmt:
        raise exception.ImageUnsafe(
            image=ref, reason='qemu-img reports format %r, not %r'
                              % (info.get('format'), fmt))
    if info.get('backing-filename') or info.get('full-backing-filename'):
        raise exception.ImageUnsafe(
            image=ref, reason='qemu-img reports a backing file')
    data = (info.get('format-specific') or {}).get('data') or {}
    if data.get('data-file'):
        raise exception.ImageUnsafe(
            image=ref, reason='qemu-img reports an external data file')
    virtual_size = info.get('virtual-size')
    if not isinstance(virtual_size, int) or virtual_size < 0:
        raise exception.ImageUnsafe(
            image=ref, reason='qemu-img reports no virtual size')
    if virtual_size == 0:
        raise exception.ImageUnsafe(
            image=ref, reason='it has no content (virtual size 0)')
    if virtual_size > limit:
        raise exception.ImageUnsafe(
            image=ref, reason='virtual size %d bytes is more than [image] '
                              'max_image_size_mb (%d MiB)'
                              % (virtual_size, conf.image.max_image_size_mb))
    return virtual_size


def inspect_image(conf, path, ref, declared_format=None):
    """Decide whether the file at ``path`` is safe to use, and as what.

    :param conf: the ConfigOpts
    :param path: the fetched file
    :param ref: the image reference, for messages
    :param declared_format: 'qcow2' or 'raw' if the reference declares
        one (see ImageSource.declared_format), else None
    :returns: ``{"format": "qcow2"|"raw", "detected": the inspector's
        name (qcow2, raw, gpt, iso), "virtual_size": bytes, "size":
        bytes on the file system}``
    :raises: ImageUnsafe
    """
    limit = conf.image.max_image_size_mb * units.Mi
    size = os.stat(path).st_size
    # An empty file is what a failed or truncated upload leaves: never a
    # disk anyone meant to boot, and the inspector would call it raw.
    if size == 0:
        raise exception.ImageUnsafe(image=ref,
                                    reason='it is empty (0 bytes)')
    if size > limit:
        raise exception.ImageUnsafe(
            image=ref, reason='%d bytes is more than [image] '
                              'max_image_size_mb (%d MiB)'
                              % (size, conf.image.max_image_size_mb))
    inspector = _detect(path, ref)
    detected = str(inspector)
    fmt = FORMAT_OF.get(detected)
    if fmt is None:
        raise exception.ImageUnsafe(
            image=ref, reason='format %s is not supported (only qcow2 and '
                              'raw)' % detected)
    _safety_check(inspector, ref)
    if declared_format is not None and declared_format != fmt:
        raise exception.ImageUnsafe(
            image=ref, reason='declared %s but the content is %s'
                              % (declared_format, detected))
    virtual_size = _check_with_qemu_img(conf, path, ref, fmt, limit)
    LOG.info('Image %(ref)s inspected: %(detected)s, used as %(fmt)s, '
             'virtual size %(vsize)d',
             {'ref': ref, 'detected': detected, 'fmt': fmt,
              'vsize': virtual_size})
    return {'format': fmt, 'detected': detected,
            'virtual_size': virtual_size, 'size': size}
