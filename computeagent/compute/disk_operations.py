"""The disk operations of docs/api.md on an instance's disks.

attach_disk, detach_disk, change_media and commit_disk each run through
the :class:`computeagent.compute.operations.OperationRunner` (the lock,
the state check, notifications and storing what changed), except that
attach_disk stores its disk itself, within the disk's resource claim
(:meth:`computeagent.compute.resources.ResourceTracker.claim_disk`).

detach_disk never claims what the guest contradicts: a disk leaves the
record only once the driver says the guest released it and its files
are gone. A running guest that does not release it in time (no
hot-unplug support, or slow) keeps it: the detach fails with
DriverError, and the disk stays in the record and spec, with its files.
The target is marked in the stored instance (``detaching``) before the
driver is asked, so the detach is never forgotten, even by an agent
that dies meanwhile: detach_disk again finishes it once the guest
released it, and :func:`finish_detaches` finishes every marked one
when the guest is off (after stop_instance, before start_instance, and
when the power sync sees the guest shut off:
:mod:`computeagent.compute.lifecycle`,
:mod:`computeagent.compute.power_sync`).
"""

import dataclasses

from oslo_log import log as logging

from computeagent import exception
from computeagent.objects import spec as spec_obj
from computeagent.schema import instance as instance_schema

LOG = logging.getLogger(__name__)

NOT_RELEASED = ('the guest of %(uuid)s has not released disk %(target)s: '
                'the disk stays attached, with its files, until the guest '
                'releases it (detach_disk again then finishes the detach) '
                'or stops (which finishes it)')
HELD_TARGET = ('the guest of %(uuid)s has not released the disk detached '
               'from %(target)s earlier: the target is taken until that '
               'detach finishes; choose another target, or retry once the '
               'guest released it or stopped')
COMMIT_FAILED = ('the commit of %(target)s failed (%(error)s); the snapshot '
                 'disks committed before it stay committed: %(committed)s')


def _without(instance, target):
    """``instance`` once the disk at ``target`` is gone, not yet stored.

    :param instance: a StoredInstance
    :returns: a StoredInstance
    """
    spec = instance.spec
    return dataclasses.replace(
        instance,
        record=dataclasses.replace(instance.record, disks=tuple(
            d for d in instance.record.disks if d.target != target)),
        spec=dataclasses.replace(spec, disks=tuple(
            d for d in spec.disks if d.target != target)),
        detaching=tuple(t for t in instance.detaching if t != target))


def _stored_fields(instance):
    """What :meth:`InstanceStore.update` writes of a detach's outcome."""
    return {'disks': instance.record.disks, 'spec': instance.spec,
            'detaching': instance.detaching}


def finish_detaches(driver, store, instance):
    """Finish the detaches of disks the guest had not released.

    Called, under the instance's lock, once the guest is off: the
    driver then removes each such disk from the definition and its
    files, and the record and spec drop it. One the driver cannot
    finish stays marked, for the next chance.

    :param instance: the StoredInstance
    :returns: the StoredInstance as stored afterwards
    """
    finished = instance
    for target in instance.detaching:
        try:
            done = driver.detach_disk(finished, target)
        except exception.ComputeAgentException as error:
            LOG.warning('Instance %(uuid)s: the detach of %(target)s is '
                        'still not finished: %(error)s',
                        {'uuid': instance.uuid, 'target': target,
                         'error': error})
            continue
        if done:
            finished = _without(finished, target)
            LOG.info('Instance %(uuid)s: finished the detach of '
                     '%(target)s', {'uuid': instance.uuid,
                                    'target': target})
    if finished is instance:
        return instance
    store.update(instance.uuid, **_stored_fields(finished))
    return store.get_stored(instance.uuid)


class DiskOperations(object):
    """attach, detach, media change and commit of an instance's disks.

    The uuid each method takes is checked by the runner; a ``target``
    or ``image`` argument must have been validated by the caller
    (:mod:`computeagent.api.endpoint`). Each returns the record once done.

    :param conf: the ConfigOpts (``[disk] max_disks`` and what disk
        specs are checked against)
    :param driver: the virt driver
    :param store: the InstanceStore
    :param resources: the ResourceTracker that admits attached disks
    :param runner: the OperationRunner
    """

    def __init__(self, conf, driver, store, resources, runner):
        self.conf = conf
        self.driver = driver
        self.store = store
        self.resources = resources
        self.runner = runner

    def attach(self, ctxt, uuid, disk):
        """attach_disk; ``disk`` is checked against the instance's spec."""
        def attach(instance):
            spec = instance.spec
            if isinstance(disk, dict) and disk.get('target') in (
                    instance.detaching):
                # The spec refuses the target too, as a disk's; say why
                # that disk is still there.
                raise exception.DriverError(reason=HELD_TARGET % {
                    'uuid': instance.uuid, 'target': disk['target']})
            new = instance_schema.validate_disk(disk, spec.disks, self.conf,
                                                nics=spec.nics,
                                                boot_order=spec.boot_order)
            state = instance.record.state
            if new.is_floppy and state != 'shutoff':
                # QEMU's floppy controller has no hot-plug: a floppy
                # drive is added to the definition of a stopped guest.
                raise exception.InvalidState(
                    action='attach a floppy to', uuid=instance.uuid,
                    state=state)
            # Claimed as a create's disks are, before anything is made;
            # the spec that names it is stored within the claim, so no
            # create or attach admitted meanwhile takes the same space.
            with self.resources.claim_disk(instance.uuid, spec, new):
                disk_record = self.driver.attach_disk(instance, new)
                record = instance.record
                attached = dataclasses.replace(
                    instance,
                    record=dataclasses.replace(
                        record, disks=record.disks + (disk_record,)),
                    spec=dataclasses.replace(spec,
                                             disks=spec.disks + (new,)))
                try:
                    self.store.update(instance.uuid,
                                      disks=attached.record.disks,
                                      spec=attached.spec)
                except Exception:
                    # A disk the record does not name would be the
                    # guest's, on no account of the agent's: take it off.
                    self._undo_attach(attached, new.target)
                    raise
        return self.runner.run(ctxt, uuid, 'attach_disk', 'attach_disk',
                               attach)

    def _undo_attach(self, instance, target):
        try:
            if not self.driver.detach_disk(instance, target):
                LOG.error('Instance %(uuid)s: the guest holds disk '
                          '%(target)s, which its record does not name; '
                          'it goes when the guest stops, its files stay',
                          {'uuid': instance.uuid, 'target': target})
        except Exception:
            LOG.exception('Instance %(uuid)s: could not take disk %(target)s '
                          'off again after its record failed to save',
                          {'uuid': instance.uuid, 'target': target})

    def detach(self, ctxt, uuid, target):
        """detach_disk of ``target``, never the instance's only disk.

        Also the retry of a detach the guest had not released.

        :raises: DriverError if the guest still holds the disk
        """
        def detach(instance):
            record = instance.record
            record.disk(target)  # an unknown target is refused first
            pending = instance.detaching
            if not [d for d in record.disks
                    if d.target != target and d.target not in pending]:
                raise exception.InvalidSpec(
                    field='target', reason='%s is the only disk of the '
                    'instance%s' % (target, ''.join(
                        ' (%s is being detached)' % t for t in pending)))
            if target not in pending:
                self.store.update(instance.uuid,
                                  detaching=pending + (target,))
            try:
                released = self.driver.detach_disk(instance, target)
            except Exception:
                if target not in pending:
                    # Refused: nothing changed, nothing to finish.
                    self.store.update(instance.uuid, detaching=pending)
                raise
            if not released:
                raise exception.DriverError(reason=NOT_RELEASED % {
                    'uuid': instance.uuid, 'target': target})
            return _stored_fields(_without(instance, target))
        return self.runner.run(ctxt, uuid, 'detach_disk', 'detach_disk',
                               detach)

    def change_media(self, ctxt, uuid, target, image=None):
        """change_media: ``image`` into the cdrom ``target``; None ejects."""
        def change(instance):
            record = instance.record
            if record.disk(target).device != 'cdrom':
                raise exception.InvalidSpec(
                    field='target', reason='%s is not a cdrom' % target)
            host_device = instance.spec.disk(target)[1].source.host_device
            if host_device is not None:
                # Its medium is whatever is in the host's drive; the agent
                # neither ejects nor replaces what is in the host's drive.
                raise exception.InvalidSpec(
                    field='target', reason='%s is the host cdrom drive %s, '
                    'whose medium is changed in the host\'s drive'
                    % (target, host_device))
            disk_record = self.driver.change_media(instance, target, image)
            spec = instance.spec
            source = spec_obj.DiskSource(image=image)
            return {'disks': tuple(disk_record if d.target == target else d
                                   for d in record.disks),
                    'spec': dataclasses.replace(spec, disks=tuple(
                        dataclasses.replace(d, source=source)
                        if d.target == target else d
                        for d in spec.disks))}
        return self.runner.run(ctxt, uuid, 'change_media', 'change_media',
                               change, notify=False)

    def commit(self, ctxt, uuid, target=None):
        """commit_disk of the snapshot disk ``target``, or of every one.

        With no ``target`` (the monitor's ``commit all``) each snapshot
        disk is committed in turn, in disk order; an instance without one
        has nothing to commit, which is no error. A commit that fails
        stops there: the disks committed before it stay committed, the
        error names the disk it failed on.

        :raises: InvalidSpec if ``target`` is not a snapshot disk;
            DriverError naming the disk whose commit failed
        """
        def commit(instance):
            if target is not None:
                if not instance.record.disk(target).snapshot:
                    raise exception.InvalidSpec(
                        field='target', reason='%s is not a snapshot disk'
                        % target)
                self.driver.commit_disk(instance, target)
                return
            committed = []
            for disk in instance.record.snapshot_disks():
                try:
                    self.driver.commit_disk(instance, disk.target)
                except exception.ComputeAgentException as error:
                    raise exception.DriverError(reason=COMMIT_FAILED % {
                        'target': disk.target,
                        'error': error.kwargs.get('reason', error),
                        'committed': ', '.join(committed) or 'none'})
                committed.append(disk.target)
        return self.runner.run(ctxt, uuid, 'commit_disk', 'commit_disk',
                               commit, notify=False)
