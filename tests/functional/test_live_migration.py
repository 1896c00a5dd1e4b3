"""Live migration between two agents, each with its own libvirtd.

The migration bed (tests/functional/migration_bed.py): two private
libvirtd and virtlogd pairs with their own host UUIDs, and a directory
both see, which is the two agents' common instances path
(``instances_path_shared``). The agents serve the shared broker on one
control exchange, as hosts of one vhost do. The guest prints a counter
on its serial port, one line per BIOS tick: its console log, kept by
the virtlogd of whichever host runs it, shows the guest never stopped
(no gap) nor started again (no repeat) across the moves.
"""

import os
import time
import uuid as uuid_mod

import oslo_messaging

from tests.functional import base
from tests.functional import fixtures as ft_fixtures
from tests.functional import migration_bed
from tests.functional import serial_counter
from tests import images

# Counter lines (about 18 a second) to see before and after each move.
LINES = 20
WAIT = 120


class TestLiveMigration(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        ft_fixtures.ensure_services()
        self.bed = self.useFixture(migration_bed.MigrationBed())
        self.instances = os.path.join(self.bed.shared_dir, 'instances')
        exchange = 'ft-mig-%s' % uuid_mod.uuid4().hex[:10]
        self.agents = [self.useFixture(ft_fixtures.AgentFixture(
            'libvirt', exchange=exchange,
            options={'DEFAULT': {'instances_path': self.instances,
                                 'instances_path_shared': True,
                                 'report_interval': 0},
                     'libvirt': {'connection_uri': daemon.uri,
                                 'virt_type': 'qemu',
                                 'live_migration_uri': daemon.uri,
                                 'live_migration_data_uri':
                                     self.bed.migrate_uri,
                                 'live_migration_unsafe': True}}))
            for daemon in self.bed.daemons]
        self.a, self.b = self.agents
        self.marker = 'MIGRATE-%s' % uuid_mod.uuid4().hex[:8]
        images.write_ticking_counter_image(
            os.path.join(self.a.image_dir, 'counter.img'),
            self.marker.encode())
        # B reads its images from the same directory as A.
        for name in os.listdir(self.a.image_dir):
            os.link(os.path.join(self.a.image_dir, name),
                    os.path.join(self.b.image_dir, name))

    def counter(self, record, at_least):
        """Wait for ``at_least`` lines; returns the checked numbers."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                numbers = serial_counter.read(record['console_log'],
                                              self.marker.encode())
                if len(numbers) >= at_least:
                    return numbers
            except (FileNotFoundError, serial_counter.CounterError):
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                self.fail('the counter reached only %d lines' % len(numbers))
            time.sleep(0.1)

    def domains(self, daemon):
        return set(daemon.virsh('list', '--all', '--uuid').split())

    def test_a_running_guest_moves_and_back_without_a_gap(self):
        record = self.a.call('create_instance', spec={
            'uuid': self.new_uuid(), 'memory_mb': 32,
            'disks': [{'source': {'image': 'counter.img'}}]})
        uuid = record['uuid']
        before = len(self.counter(record, LINES))

        moved = self.a.call('migrate_instance', uuid=uuid,
                            dest_host=self.b.host, rpc_timeout=300)
        self.assertEqual((self.b.host, 'running'),
                         (moved['host'], moved['state']))
        self.assertEqual(moved, self.b.call('get_instance', uuid=uuid))
        error = self.assertRaises(oslo_messaging.RemoteError, self.a.call,
                                  'get_instance', uuid=uuid)
        self.assertEqual('InstanceNotFound', error.exc_type)
        self.assertEqual(({uuid}, set()), (self.domains(self.bed.b),
                                           self.domains(self.bed.a)))
        after = self.counter(moved, before + LINES)
        self.assertGreater(len(after), before + LINES - 1)
        end = self.a.notifications.wait_for(
            'instance.live_migration.end',
            predicate=lambda n: n['payload']['uuid'] == uuid)
        self.assertEqual(self.a.host, end['payload']['source_host'])

        back = self.b.call('migrate_instance', uuid=uuid,
                           dest_host=self.a.host, rpc_timeout=300)
        self.assertEqual(self.a.host, back['host'])
        self.assertEqual(back, self.a.call('get_instance', uuid=uuid))
        self.assertEqual([], self.b.call('list_instances'))
        # No gap and no repeat, from the first line to the last.
        self.counter(back, len(after) + LINES)
        self.a.call('delete_instance', uuid=uuid)
        self.assertEqual((set(), set()), (self.domains(self.bed.a),
                                          self.domains(self.bed.b)))
        self.assertFalse(os.path.exists(os.path.join(self.instances, uuid)))

    def test_a_failed_move_leaves_the_guest_running_at_the_source(self):
        record = self.a.call('create_instance', spec={
            'uuid': self.new_uuid(), 'memory_mb': 32,
            'disks': [{'source': {'image': 'counter.img'}}]})
        uuid = record['uuid']
        self.counter(record, LINES // 2)
        # B's libvirtd gone: B's agent prepares, libvirt cannot migrate.
        self.bed.b.stop_libvirtd()
        self.addCleanup(self.bed.b.start_libvirtd)
        error = self.assertRaises(oslo_messaging.RemoteError, self.a.call,
                                  'migrate_instance', uuid=uuid,
                                  dest_host=self.b.host, rpc_timeout=300)
        self.assertEqual('MigrationFailed', error.exc_type)
        stayed = self.a.call('get_instance', uuid=uuid)
        self.assertEqual((self.a.host, 'running'),
                         (stayed['host'], stayed['state']))
        self.assertEqual({uuid}, self.domains(self.bed.a))
        self.a.notifications.wait_for(
            'instance.live_migration.error',
            predicate=lambda n: n['payload']['uuid'] == uuid)
        numbers = self.counter(record, 0)
        self.counter(record, len(numbers) + LINES // 2)
        self.a.call('delete_instance', uuid=uuid)
