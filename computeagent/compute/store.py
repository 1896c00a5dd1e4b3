"""Instance records, one JSON file per instance under its directory.

``<instances_path>/<uuid>/instance.json`` holds the public record of
docs/api.md, the normalized spec it was built from and the fingerprint of the
request, so the agent knows every instance it owns after a restart
without asking anyone. Writes are atomic (write, fsync, rename): a crash
leaves the old record or the new one, never half of either (and perhaps
a ``.instance.*`` temporary file, which start-up recovery removes). The
directory is fsynced after the rename, so a record written before a
reply survives a power loss too (see :meth:`InstanceStore._write`).

What the file holds is the stored instance (:meth:`InstanceStore.get_stored`),
a :class:`computeagent.objects.stored.StoredInstance` written as the JSON
object ``{"record", "spec", "fingerprint"}`` that may also carry a
``task``: an operation that must be finished if the agent dies during
it (``deleting``). The task is the agent's own and never part of the
public record. The objects are immutable, so the store hands out the
ones it keeps.
"""

import dataclasses
import json
import os
import shutil
import threading

from oslo_log import log as logging

from computeagent import durable
from computeagent import exception
from computeagent.objects import stored as stored_obj
from computeagent.virt import diskspace
from computeagent.virt import layout

LOG = logging.getLogger(__name__)

RECORD_FILE = 'instance.json'
#: :meth:`InstanceStore.update`'s default ``task``: the stored one stays
KEEP_TASK = object()
TEMP_PREFIX = '.instance.'


def is_temp_file(name):
    """Whether a file name is one of a record's temporary files."""
    return name.startswith(TEMP_PREFIX)


class InstanceStore(object):
    """Durable records with an in-memory copy for fast reads.

    :param instances_path: ``[DEFAULT] instances_path``
    :param host: this host's name when the instances path is shared with
        other hosts (``instances_path_shared``): only the records naming
        it are this store's; None: every record there is
    """

    def __init__(self, instances_path, host=None):
        self.instances_path = instances_path
        self.host = host
        # Guards the dicts; never held while a file is written.
        self._lock = threading.Lock()
        self._stored = {}
        # uuid -> the lock held while that instance's file is rewritten:
        # one instance's writes stay in order, while different
        # instances' writes (their fsyncs) go on at once; a burst of
        # creates waited on each other's fsyncs one after another.
        self._writers = {}

    @classmethod
    def from_conf(cls, conf):
        """The store of this agent: on a shared path, its host's part."""
        return cls(conf.instances_path,
                   host=conf.host if conf.instances_path_shared else None)

    def _writer(self, uuid):
        with self._lock:
            return self._writers.setdefault(uuid, threading.Lock())

    def instance_dir(self, uuid):
        """``<instances_path>/<uuid>``.

        :raises: InvalidSpec if ``uuid`` is not a canonical UUID
        """
        return layout.instance_dir(self.instances_path, uuid)

    def remove_instance_dir(self, uuid):
        """Remove ``uuid``'s directory and all in it, if it is there."""
        shutil.rmtree(self.instance_dir(uuid), ignore_errors=True)

    def _path(self, uuid):
        return os.path.join(self.instance_dir(uuid), RECORD_FILE)

    def load_all(self):
        """Read this store's records on disk; called once at start-up.

        A record that cannot be parsed is logged and skipped rather than
        stopping the agent: its directory is left for an operator.
        """
        stored_all = {}
        others = 0
        for stored in self.read_all():
            if self.host is None or stored.record.host == self.host:
                stored_all[stored.uuid] = stored
            else:
                others += 1
        if others:
            LOG.info('Left %d records of other hosts in the shared '
                     'instances path alone', others)
        with self._lock:
            self._stored = stored_all
        return len(stored_all)

    def read_all(self):
        """Every record on disk, of whichever host, read now.

        :returns: a generator of StoredInstance; unreadable records are
            logged and skipped
        """
        try:
            names = os.listdir(self.instances_path)
        except FileNotFoundError:
            names = []
        for name in names:
            if not layout.is_uuid(name):
                continue  # _base, or what is no instance's
            path = self._path(name)
            if not os.path.isfile(path):
                continue
            try:
                with open(path) as f:
                    yield stored_obj.StoredInstance.from_dict(json.load(f))
            except FileNotFoundError:
                continue  # deleted meanwhile
            except (OSError, ValueError, KeyError, TypeError,
                    AttributeError) as error:
                LOG.error('Ignoring unreadable instance record %(path)s: '
                          '%(error)s', {'path': path, 'error': error})

    def recorded_host(self, uuid):
        """The host the record on disk of ``uuid`` names, read now.

        :returns: the host's name, or None if there is no record or it
            cannot be read
        """
        stored = self.read(uuid)
        return stored.record.host if stored is not None else None

    def save(self, record, spec=None, fingerprint=None):
        """Write a record atomically; spec and fingerprint are kept.

        :param record: the InstanceRecord
        :param spec: the InstanceSpec, or None to keep the stored one
        :param fingerprint: the request's, or None to keep the stored one
        :returns: ``record``
        """
        uuid = record.uuid
        with self._writer(uuid):
            stored = self.get_stored(uuid)
            if stored is None:
                stored = stored_obj.StoredInstance(record=record)
            changes = {'record': record}
            if spec is not None:
                changes['spec'] = spec
            if fingerprint is not None:
                changes['fingerprint'] = fingerprint
            stored = dataclasses.replace(stored, **changes)
            self._write(uuid, stored)
            with self._lock:
                self._stored[uuid] = stored
        return record

    def update(self, uuid, spec=None, detaching=None, task=KEEP_TASK,
               **fields):
        """Change some fields of a record (and the spec) and write it.

        :param spec: the new InstanceSpec, or None to keep it
        :param detaching: the new targets of unfinished detaches (a
            tuple), or None to keep them
        :param task: the new task (None: no task), written in the same
            write as the fields; by default the stored one is kept
        :param fields: InstanceRecord fields and their new values
        :returns: the InstanceRecord as written
        :raises: InstanceNotFound
        """
        def change(stored):
            changes = {'record': dataclasses.replace(stored.record,
                                                     **fields)}
            if spec is not None:
                changes['spec'] = spec
            if detaching is not None:
                changes['detaching'] = tuple(detaching)
            if task is not KEEP_TASK:
                changes['task'] = task
            return dataclasses.replace(stored, **changes)
        return self._change(uuid, change).record

    def set_task(self, uuid, task):
        """Mark (or, with None, unmark) an operation in progress; durable.

        :param task: e.g. ``'deleting'``, or None
        :raises: InstanceNotFound
        """
        self._change(uuid,
                     lambda stored: dataclasses.replace(stored, task=task))

    def set_migrating(self, uuid, host):
        """Mark (or, with None, unmark) a live migration to ``host``.

        :raises: InstanceNotFound
        """
        self._change(uuid, lambda stored: dataclasses.replace(
            stored, migrating_to=host))

    def hand_over(self, uuid, host):
        """Give the record to ``host``, which shares the instances path.

        The file is rewritten naming ``host`` (its migration mark gone)
        and this store forgets it; the directory stays, now the other
        host's. Only a store of a shared path (``self.host``) may.

        :returns: the StoredInstance as written
        :raises: InstanceNotFound
        """
        assert self.host is not None, 'only on a shared instances path'
        with self._writer(uuid):
            stored = self.get_stored(uuid)
            if stored is None:
                raise exception.InstanceNotFound(uuid=uuid)
            stored = dataclasses.replace(
                stored, migrating_to=None,
                record=dataclasses.replace(stored.record, host=host))
            self._write(uuid, stored)
            with self._lock:
                self._stored.pop(uuid, None)
                self._writers.pop(uuid, None)
        return stored

    def read(self, uuid):
        """The record on disk of ``uuid``, of whichever host, read now.

        :returns: the StoredInstance, or None if there is none or it
            cannot be read
        """
        try:
            with open(self._path(uuid)) as f:
                return stored_obj.StoredInstance.from_dict(json.load(f))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def adopt(self, uuid):
        """Take on a record another host handed over to this one.

        :returns: the StoredInstance, or None if the record on disk does
            not name this host
        """
        with self._writer(uuid):
            stored = self.read(uuid)
            if stored is None or stored.record.host != self.host:
                return None
            with self._lock:
                self._stored[uuid] = stored
            return stored

    def _change(self, uuid, change):
        """Write the stored instance ``change(stored)`` returns.

        The new one replaces the one in memory only once it is on disk,
        so a failed write leaves both as they were.

        :returns: the StoredInstance as written
        :raises: InstanceNotFound
        """
        with self._writer(uuid):
            stored = self.get_stored(uuid)
            if stored is None:
                raise exception.InstanceNotFound(uuid=uuid)
            stored = change(stored)
            self._write(uuid, stored)
            with self._lock:
                self._stored[uuid] = stored
            return stored

    def _write(self, uuid, stored):
        """Write the stored instance's file (:meth:`_write_file`).

        A filesystem too full for the record is the host's lack of room,
        not a fault of the agent.

        :raises: InsufficientResources
        """
        with diskspace.out_of_room(self._path(uuid),
                                   'the record of instance %s' % uuid):
            self._write_file(uuid, stored)

    def _write_file(self, uuid, stored):
        directory = self.instance_dir(uuid)
        made = not os.path.isdir(directory)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        # The directory fsync durable.write_file ends with keeps a power
        # loss from bringing back the old record, e.g. "building" for a
        # guest a create already reported running, which recovery would
        # then roll back. About 0.2 ms here per write; a new directory
        # needs its own entry in instances_path flushed too.
        # Compact: json's C encoder does not indent, and its Python one
        # costs three times as much on every write of a record.
        durable.write_file(self._path(uuid),
                           json.dumps(stored.to_dict(), sort_keys=True),
                           TEMP_PREFIX)
        if made:
            durable.fsync_dir(self.instances_path)

    def get(self, uuid):
        """:returns: the InstanceRecord, or None"""
        with self._lock:
            stored = self._stored.get(uuid)
            return stored.record if stored else None

    def get_stored(self, uuid):
        """The stored instance: record, spec, fingerprint (and task).

        :returns: the StoredInstance, or None
        """
        with self._lock:
            return self._stored.get(uuid)

    def list(self):
        """:returns: every InstanceRecord, oldest ``created_at`` first"""
        with self._lock:
            records = [stored.record for stored in self._stored.values()]
        return sorted(records, key=lambda r: (r.created_at, r.uuid))

    def uuids(self):
        with self._lock:
            return set(self._stored)

    def delete(self, uuid):
        """Forget a record and remove its file (not the directory)."""
        with self._writer(uuid):
            with self._lock:
                self._stored.pop(uuid, None)
                self._writers.pop(uuid, None)
            try:
                os.unlink(self._path(uuid))
            except FileNotFoundError:
                pass
