"""set_boot_order of docs/api.md: the order of the guest's next boot.

The QEMU monitor's ``boot_set``: the order is written into the guest's
persistent definition (the driver's :meth:`set_boot_order`), which its
next start uses; the running guest keeps the order it booted with.
The instance record's and the stored spec's ``boot_index`` values say
the order of the definition, so they change with it.

A crash must not leave the record and the definition telling different
orders. The new order is stored first, in the same write as the task
:data:`SETTING_BOOT_ORDER`, and only then is the driver asked; the task
is cleared once the definition has it. A driver that refuses gets the
old order stored back (and the task cleared) in one write. An agent
that died between the two finds the task at its next start and writes
the stored order into the definition (:func:`finish`, which is
idempotent), and so does every reconciliation pass while the task is
there: the record stays what the hypervisor has.
"""

import dataclasses

from oslo_log import log as logging

from computeagent import exception
from computeagent.schema import bootorder as schema_bootorder
from computeagent.virt import bootorder

LOG = logging.getLogger(__name__)

#: the store task of a boot order stored but perhaps not yet defined
SETTING_BOOT_ORDER = 'setting_boot_order'

FIELD = 'boot_order'


def _by_letters(spec, letters):
    """``spec`` booting by a letter boot order (``"cdn"``).

    The spec keeps the letters as a create's spec does, and no device
    has a ``boot_index`` of its own (the two forms do not mix); what the
    letters stand for is :func:`computeagent.virt.bootorder.boot_indexes`.

    :raises: InvalidSpec naming ``boot_order``
    """
    letters = schema_bootorder.validate_letters(letters, FIELD)
    return dataclasses.replace(
        spec, boot_order=letters,
        disks=tuple(dataclasses.replace(d, boot_index=None)
                    for d in spec.disks),
        nics=tuple(dataclasses.replace(n, boot_index=None)
                   for n in spec.nics))


def _device_of(spec, detaching, index, entry):
    """The device an entry of the list names.

    :returns: ('disk', target) or ('nic', mac)
    :raises: InvalidSpec naming ``boot_order[index]``
    """
    field = '%s[%d]' % (FIELD, index)
    if not isinstance(entry, str):
        raise exception.InvalidSpec(
            field=field, reason='must be a disk target or a nic MAC '
            'address, not %r' % (entry,))
    for disk in spec.disks:
        if disk.target == entry:
            if entry in detaching:
                raise exception.InvalidSpec(
                    field=field, reason='%s is being detached' % entry)
            return 'disk', entry
    # MACs are stored lower case; a request may write them in any case.
    for nic in spec.nics:
        if nic.mac is not None and nic.mac == entry.lower():
            return 'nic', nic.mac
    raise exception.InvalidSpec(
        field=field, reason='instance %s has no disk or nic %s'
        % (spec.uuid, entry))


def ordered_spec(spec, boot_order, detaching=()):
    """``spec`` with the boot order a set_boot_order request asks for.

    The listed devices get ``boot_index`` 1, 2, ... in list order; every
    other disk and nic gets none.

    :param spec: the instance's InstanceSpec
    :param boot_order: the request's argument: a list of disk targets
        (``vdb``, ``sda``) and nic MAC addresses, first to boot first;
        or a string of boot letters (``"dc"``, the spec key's form)
    :param detaching: targets whose detach is not finished (the
        definition no longer has them)
    :returns: a new InstanceSpec
    :raises: InvalidSpec naming ``boot_order``: not a list, empty, an
        entry that names no device of the instance, a device twice
    """
    if isinstance(boot_order, str):
        return _by_letters(spec, boot_order)
    if not isinstance(boot_order, (list, tuple)):
        raise exception.InvalidSpec(
            field=FIELD, reason='must be a list of disk targets and nic MAC '
            'addresses, not %r' % (boot_order,))
    if not boot_order:
        raise exception.InvalidSpec(
            field=FIELD, reason='must name at least one device')
    indexes = {}
    for index, entry in enumerate(boot_order):
        device = _device_of(spec, detaching, index, entry)
        if device in indexes:
            raise exception.InvalidSpec(
                field='%s[%d]' % (FIELD, index),
                reason='%s is listed twice' % entry)
        indexes[device] = index + 1
    return dataclasses.replace(
        spec, boot_order=None,
        disks=tuple(dataclasses.replace(
            d, boot_index=indexes.get(('disk', d.target)))
            for d in spec.disks),
        nics=tuple(dataclasses.replace(
            n, boot_index=indexes.get(('nic', n.mac))) for n in spec.nics))


def _recorded(record, spec):
    """The record's disks with the boot indexes ``spec`` gives them."""
    indexes = bootorder.boot_indexes(spec.boot_order, spec.disks, spec.nics)
    index = dict(zip((d.target for d in spec.disks), indexes.disks))
    return tuple(dataclasses.replace(d, boot_index=index.get(d.target))
                 for d in record.disks)


def finish(driver, store, stored):
    """Write a stored boot order the definition may lack into it.

    The reconciler calls it, under the instance's lock, for an instance
    whose set_boot_order the agent died in (at start-up recovery, and
    in each pass while the task is left).

    :param stored: the StoredInstance, its task SETTING_BOOT_ORDER
    :returns: whether the definition has the stored order now (else the
        task stays, for the next pass)
    """
    try:
        driver.set_boot_order(stored)
    except exception.ComputeAgentException as error:
        LOG.error('Instance %(uuid)s: its stored boot order could not be '
                  'written into its definition: %(error)s',
                  {'uuid': stored.uuid, 'error': error})
        return False
    store.update(stored.uuid, task=None)
    LOG.info('Instance %s: finished setting its boot order', stored.uuid)
    return True


class BootOrder(object):
    """set_boot_order of an instance.

    :param driver: the virt driver
    :param store: the InstanceStore
    :param runner: the OperationRunner
    """

    def __init__(self, driver, store, runner):
        self.driver = driver
        self.store = store
        self.runner = runner

    def set(self, ctxt, uuid, boot_order):
        """set_boot_order: the order of the guest's next boot.

        :param boot_order: the request's argument (:func:`ordered_spec`)
        :returns: the record, docs/api.md's dict
        :raises: InvalidSpec, InstanceNotFound, InvalidState, DriverError
        """
        def set_order(instance):
            spec = ordered_spec(instance.spec, boot_order,
                                instance.detaching)
            record = dataclasses.replace(
                instance.record, disks=_recorded(instance.record, spec))
            uuid = instance.uuid
            self.store.update(uuid, spec=spec, disks=record.disks,
                              task=SETTING_BOOT_ORDER)
            try:
                self.driver.set_boot_order(dataclasses.replace(
                    instance, spec=spec, record=record))
            except Exception:
                # Refused: the definition has the old order; so does the
                # record again.
                self.store.update(uuid, spec=instance.spec,
                                  disks=instance.record.disks, task=None)
                raise
            self.store.update(uuid, task=None)
        return self.runner.run(ctxt, uuid, 'set_boot_order',
                               'set_boot_order', set_order)
