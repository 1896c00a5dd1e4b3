"""``kill -9`` of the agent during creates and deletes, then a restart.

Each test casts a request to a real agent (libvirt, QEMU, RabbitMQ),
watches for one step of it from the outside (a line of the agent's DEBUG
log, a file in the instance directory, the domain's state in libvirt)
and SIGKILLs the agent the moment that step is seen, so the kill points
are the same in every run rather than a matter of timing. The agent is
then started again. Whatever the step, the instance must be either
running and listed (its console shows its marker) or completely gone:
no domain in ``virsh list --all``, no instance directory, not listed.

Which one is decided by the record the dead agent left, read before the
restart: ``running`` (and no delete under way) means the create had
answered, so the guest is adopted; a ``building`` record, a delete under
way or no record at all means it is gone.
"""

import json
import os
import signal
import time

from tests.functional import libvirt_helpers as lh

#: seconds between two looks for a kill point; the steps are
#: milliseconds apart, so the agent is stopped close to the point
WATCH_INTERVAL = 0.002
WATCH_TIMEOUT = 60


class LogWatcher(object):
    """The agent's log from a point on, read as it grows."""

    def __init__(self, path):
        self.path = path
        self.offset = os.path.getsize(path)
        self.text = ''

    def has(self, needle):
        with open(self.path, 'rb') as f:
            f.seek(self.offset)
            chunk = f.read()
        self.offset += len(chunk)
        self.text += chunk.decode('utf-8', errors='replace')
        return needle in self.text

    def has_line(self, *words):
        """Whether a line has every one of ``words``, in any form."""
        self.has('')
        return any(all(word in line for word in words)
                   for line in self.text.splitlines())


class KillTestCase(lh.LibvirtTestCase):

    def record_file(self, uuid):
        return os.path.join(self.instance_dir(uuid), 'instance.json')

    def stored(self, uuid):
        """The entry the agent wrote for uuid (record, task), or None."""
        try:
            with open(self.record_file(uuid)) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            # No record, or a crash mid-write of a temp file: the rename
            # never happened, so there is no record.
            return None

    def domstate(self, uuid):
        """libvirt's state of the domain ('' when there is none)."""
        return lh.virsh('domstate', uuid, check=False).strip()

    def kill_when(self, point, what):
        """SIGKILL the agent as soon as ``point()`` is true."""
        deadline = time.monotonic() + WATCH_TIMEOUT
        while not point():
            if self.agent.process.poll() is not None:
                raise AssertionError('the agent exited before %s:\n%s'
                                     % (what, self.agent.log_tail()))
            if time.monotonic() > deadline:
                raise AssertionError('%s: not within %s s' % (
                    what, WATCH_TIMEOUT))
            time.sleep(WATCH_INTERVAL)
        self.assertEqual(-signal.SIGKILL, self.agent.stop(signal.SIGKILL))

    def spec_with_marker(self, label):
        marker = lh.new_marker(label)
        spec = self.spec([{'source': {'image': self.raw_image(
            '%s.img' % label.lower(), marker)}, 'boot_index': 1}])
        self.addCleanup(self._delete_quietly, spec['uuid'])
        return spec, marker

    def restart_and_check(self, uuid, marker):
        """Restart the agent; the instance is running or gone.

        :returns: True if it is running, False if it is gone
        """
        entry = self.stored(uuid)
        running = (entry is not None and entry.get('task') is None
                   and entry['record']['state'] == 'running')
        self.agent.start()
        if running:
            record = self.agent.call('get_instance', uuid=uuid)
            self.assertEqual('running', record['state'], record)
            self.assertEqual([uuid], [r['uuid'] for r in self.agent.call(
                'list_instances')])
            self.assertEqual('running', self.domstate(uuid))
            lh.wait_for_console(self.agent, uuid, marker)
        else:
            self.assertNothingLeft(uuid)
            self.assertEqual([], self.agent.call('list_instances'))
        # Nor half a fetch in the image cache.
        self.assertEqual([], [name for name in self.base_files()
                              if name.startswith('.tmp-')])
        return running

    # -- creates ---------------------------------------------------

    def kill_during_create(self, label, point, expect=None):
        """Cast a create, kill at ``point(uuid, log)``, restart, check.

        :param expect: True (running) or False (gone) when the point
            decides it, None when either may be right
        """
        spec, marker = self.spec_with_marker(label)
        uuid = spec['uuid']
        log = LogWatcher(self.agent.log_file)
        self.agent.cast('create_instance', spec=spec)
        self.kill_when(lambda: point(uuid, log), label)
        building = (self.stored(uuid) or {}).get('record', {}).get('state')
        running = self.restart_and_check(uuid, marker)
        if expect is not None:
            self.assertEqual(expect, running)
        if building == 'building':
            self.assertIn('Instance %s: a create was interrupted' % uuid,
                          self.agent.log_text())
            error = self.agent.notifications.wait_for(
                'instance.create.error',
                predicate=lambda n: n['payload']['uuid'] == uuid)
            self.assertEqual('AgentRestarted',
                             error['payload']['error_type'])
        if not running:
            # The same spec again builds the instance from nothing.
            self.create(spec)
            lh.wait_for_console(self.agent, uuid, marker)


class TestKillDuringCreate(KillTestCase):

    def test_kill_when_the_create_takes_the_instance_lock(self):
        self.kill_during_create('LOCK', lambda uuid, log: log.has(
            'Acquired lock "instance-%s"' % uuid), expect=False)

    def test_kill_once_the_building_record_is_written(self):
        self.kill_during_create('RECORD', lambda uuid, log: os.path.exists(
            self.record_file(uuid)), expect=False)

    def test_kill_while_the_image_is_fetched(self):
        self.kill_during_create('FETCH', lambda uuid, log: log.has(
            'Fetching image fetch.img'), expect=False)

    def test_kill_while_the_image_is_inspected(self):
        # The agent logs each qemu-img command it runs at DEBUG.
        self.kill_during_create('INSPECT', lambda uuid, log: log.has_line(
            'Running', 'qemu-img', 'info'), expect=False)

    def test_kill_while_qemu_img_creates_the_disk(self):
        self.kill_during_create('QEMUIMG', lambda uuid, log: log.has_line(
            'Running', 'qemu-img', 'create', uuid), expect=False)

    def test_kill_once_the_disk_exists(self):
        self.kill_during_create('DISK', lambda uuid, log: os.path.exists(
            os.path.join(self.instance_dir(uuid), 'disk')), expect=False)

    def test_kill_once_the_domain_is_defined(self):
        self.kill_during_create('DEFINED', lambda uuid, log: self.domstate(
            uuid) != '')

    def test_kill_once_the_domain_runs(self):
        self.kill_during_create('STARTED', lambda uuid, log: self.domstate(
            uuid) == 'running')

    def test_kill_once_the_driver_says_started(self):
        self.kill_during_create('SPAWNED', lambda uuid, log: log.has(
            'Started domain instance-%s' % uuid))

    def test_kill_once_the_running_record_is_written(self):
        def running(uuid, log):
            entry = self.stored(uuid)
            return entry is not None and (
                entry['record']['state'] == 'running')
        self.kill_during_create('RUNNING', running, expect=True)


class TestKillDuringDelete(KillTestCase):

    def kill_during_delete(self, label, point):
        """Create, cast a delete, kill at ``point(uuid, log)``, check."""
        spec, marker = self.spec_with_marker(label)
        uuid = spec['uuid']
        self.create(spec)
        lh.wait_for_console(self.agent, uuid, marker)
        log = LogWatcher(self.agent.log_file)
        self.agent.cast('delete_instance', uuid=uuid)
        self.kill_when(lambda: point(uuid, log), label)
        marked = (self.stored(uuid) or {}).get('task') == 'deleting'
        self.assertFalse(self.restart_and_check(uuid, marker))
        if marked:
            self.assertIn('Instance %s: a delete was interrupted' % uuid,
                          self.agent.log_text())
            self.agent.notifications.wait_for(
                'instance.delete.end',
                predicate=lambda n: n['payload']['uuid'] == uuid)

    def test_kill_once_the_delete_is_marked(self):
        def marked(uuid, log):
            return (self.stored(uuid) or {}).get('task') == 'deleting'
        self.kill_during_delete('MARKED', marked)

    def test_kill_once_the_domain_is_gone(self):
        self.kill_during_delete('UNDEFINED', lambda uuid, log: (
            self.domstate(uuid) == ''))

    def test_kill_while_the_files_are_removed(self):
        self.kill_during_delete('FILES', lambda uuid, log: log.has(
            'Removed domain instance-%s' % uuid))
