"""The disk operations of docs/api.md on an instance's disks.

attach_disk, detach_disk, change_media and commit_disk each run through
the :class:`computeagent.compute.operations.OperationRunner` (the lock,
the state check, notifications and storing what changed), except that
attach_disk stores its disk itself, within the disk's resource claim
(:meth:`computeagent.compute.resources.ResourceTracker.claim_disk`).
"""

import dataclasses

from oslo_log import log as logging

from computeagent import exception
from computeagent.objects import spec as spec_obj
from computeagent.schema import instance as instance_schema

LOG = logging.getLogger(__name__)


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
            new = instance_schema.validate_disk(disk, spec.disks, self.conf,
                                                nics=spec.nics)
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
            self.driver.detach_disk(instance, target)
        except Exception:
            LOG.exception('Instance %(uuid)s: could not take disk %(target)s '
                          'off again after its record failed to save',
                          {'uuid': instance.uuid, 'target': target})

    def detach(self, ctxt, uuid, target):
        """detach_disk of ``target``, never the instance's only disk."""
        def detach(instance):
            record = instance.record
            record.disk(target)  # an unknown target is refused first
            if len(record.disks) == 1:
                raise exception.InvalidSpec(
                    field='target', reason='%s is the only disk of the '
                    'instance' % target)
            self.driver.detach_disk(instance, target)
            spec = instance.spec
            return {'disks': tuple(d for d in record.disks
                                   if d.target != target),
                    'spec': dataclasses.replace(
                        spec, disks=tuple(d for d in spec.disks
                                          if d.target != target))}
        return self.runner.run(ctxt, uuid, 'detach_disk', 'detach_disk',
                               detach)

    def change_media(self, ctxt, uuid, target, image=None):
        """change_media: ``image`` into the cdrom ``target``; None ejects."""
        def change(instance):
            record = instance.record
            if record.disk(target).device != 'cdrom':
                raise exception.InvalidSpec(
                    field='target', reason='%s is not a cdrom' % target)
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

    def commit(self, ctxt, uuid, target):
        """commit_disk of the snapshot disk ``target``."""
        def commit(instance):
            if not instance.record.disk(target).snapshot:
                raise exception.InvalidSpec(
                    field='target', reason='%s is not a snapshot disk'
                    % target)
            self.driver.commit_disk(instance, target)
        return self.runner.run(ctxt, uuid, 'commit_disk', 'commit_disk',
                               commit, notify=False)
