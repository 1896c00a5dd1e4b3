"""The stored instance: what ``<uuid>/instance.json`` holds.

The record, the normalized spec it was built from, the fingerprint of
the request and, while one runs, the agent's own ``task`` (e.g.
``deleting``, see :mod:`computeagent.compute.recovery`), which is never
part of the public record, nor are the targets of disks whose detach
is not finished (``detaching``: the guest has not released them, see
:mod:`computeagent.compute.disk_operations`), nor the host a live
migration under way moves the guest to (``migrating_to``, see
:mod:`computeagent.compute.migration`). The store
(:mod:`computeagent.compute.store`) keeps these in memory and writes
:meth:`StoredInstance.to_dict`; the driver contract's methods on an
instance take one, for its record and its spec.
"""

import dataclasses
import typing

from computeagent.objects import record as record_mod
from computeagent.objects import spec as spec_mod


@dataclasses.dataclass(frozen=True)
class StoredInstance(object):
    """One instance as the agent keeps it.

    :ivar record: the InstanceRecord
    :ivar spec: the InstanceSpec, or None if none was stored
    :ivar fingerprint: the request's fingerprint, or None
    :ivar task: an operation under way that recovery must finish, or None
    :ivar detaching: targets of disks still in the record whose detach
        was asked for and is not finished
    :ivar migrating_to: the host a live migration under way moves the
        guest to, or None
    """

    record: record_mod.InstanceRecord
    spec: typing.Optional[spec_mod.InstanceSpec] = None
    fingerprint: typing.Optional[str] = None
    task: typing.Optional[str] = None
    detaching: tuple = ()
    migrating_to: typing.Optional[str] = None

    @property
    def uuid(self):
        return self.record.uuid

    def to_dict(self):
        """The JSON document of ``instance.json``; unset keys left out."""
        data = {'record': self.record.to_dict()}
        if self.spec is not None:
            data['spec'] = self.spec.to_dict()
        if self.fingerprint is not None:
            data['fingerprint'] = self.fingerprint
        if self.task is not None:
            data['task'] = self.task
        if self.detaching:
            data['detaching'] = list(self.detaching)
        if self.migrating_to is not None:
            data['migrating_to'] = self.migrating_to
        return data

    @classmethod
    def from_dict(cls, data):
        record = record_mod.InstanceRecord.from_dict(data['record'])
        spec = data.get('spec')
        return cls(
            record=record,
            spec=(spec_mod.InstanceSpec.from_dict(spec)
                  if spec is not None else None),
            fingerprint=data.get('fingerprint'),
            task=data.get('task'),
            detaching=tuple(data.get('detaching', ())),
            migrating_to=data.get('migrating_to'))
