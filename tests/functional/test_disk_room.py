"""Disk room on a small instances path, and creates that fill it.

Each test's agent has its ``instances_path`` on a 64 MiB tmpfs of its
own (tests/smallfs.py), mounted before the agent starts and unmounted
once it has stopped. What the agent reports is compared with ``df``
(statvfs); the files the tests use to take room are theirs, beside the
agent's, and never touched by it.
"""

import os

import fixtures

from tests.functional import base
from tests.functional import fixtures as ft_fixtures
from tests.functional import libvirt_helpers as lh
from tests import smallfs

SIZE_MB = 64
MIB = 1024 * 1024


class TestDiskRoom(lh.LibvirtTestCase):

    def setUp(self):
        # Not LibvirtTestCase's agent: this one's instances path is
        # mounted before it starts.
        base.FunctionalTestCase.setUp(self)
        top = self.useFixture(fixtures.TempDir()).path
        os.chmod(top, 0o755)  # QEMU must reach the disks under it
        self.small = self.useFixture(smallfs.SmallFilesystem(
            os.path.join(top, 'instances'), SIZE_MB))
        options = {group: dict(values)
                   for group, values in lh.LIBVIRT_OPTIONS.items()}
        options['DEFAULT'] = {'instances_path': self.small.path}
        # Its clean-up (stopping the agent, removing leftover domains)
        # runs before the unmount.
        self.agent = self.useFixture(ft_fixtures.AgentFixture(
            'libvirt', options=options, start=False))
        self.agent.instances_path = self.small.path
        self.agent.start()
        self.image_subdir = None
        self.addOnException(self._attach_agent_log)

    def full_image(self, name, size_mb, marker):
        """A raw image that no copy keeps sparse; its reference."""
        smallfs.write_full_raw_image(self.image_path(name), marker, size_mb)
        return name

    def take_room(self, size_mb):
        """A file of the test's on the small filesystem; removed to free it.

        :returns: a function that removes it
        """
        path = self.small.fill('taken-by-the-test', size_mb)
        return lambda: os.unlink(path)

    def assertRefusedForRoom(self, spec, what):
        """The create fails with InsufficientResources naming ``what``."""
        error = self.assertRemoteError('InsufficientResources',
                                       self.agent.call, 'create_instance',
                                       spec=spec)
        self.assertIn(what, error.value)
        self.agent.notifications.wait_for(
            'instance.create.error',
            predicate=lambda n: n['payload']['uuid'] == spec['uuid'] and
            n['payload']['error_type'] == 'InsufficientResources')
        return error

    def test_room_is_exact_and_a_disk_beyond_it_is_refused(self):
        status = self.agent.call('get_host_status')
        stat = os.statvfs(self.small.path)
        self.assertEqual((SIZE_MB, 0),
                         (status['disk_mb'], status['disk_gb']))
        self.assertEqual(stat.f_blocks * stat.f_frsize // MIB,
                         status['disk_mb'])
        # The agent's own files (its notification outbox) come and go.
        self.assertLessEqual(
            abs(stat.f_bavail * stat.f_frsize // MIB
                - status['disk_mb_free']), 1)
        self.assertEqual(0, status['disk_gb_free'])

        # Refused at admission: nothing is made, not even a sparse file.
        spec = self.spec([{'source': {'blank': True},
                           'size_mb': SIZE_MB + 1, 'boot_index': 1}])
        error = self.assertRefusedForRoom(
            spec, '%d MiB of disk asked, %d MiB of %d MiB free'
            % (SIZE_MB + 1, SIZE_MB, SIZE_MB))
        self.assertNothingLeft(spec['uuid'])
        self.assertNotIn('no space left', error.value)

    def test_a_copy_that_fills_the_disk_then_fits(self):
        # 24 MiB in the cache and 24 in the raw copy, beside 24 of the
        # test's: admitted (24 MiB of 64 claimed), the copy runs out.
        marker = lh.new_marker('ROOM')
        ref = self.full_image('copy.raw', 24, marker)
        give_back = self.take_room(24)
        spec = self.spec([{'source': {'image': ref}, 'format': 'raw',
                           'boot_index': 1}])
        error = self.assertRefusedForRoom(spec, '(qemu-img convert)')
        self.assertIn('no space left on the filesystem at %s writing %s'
                      % (self.small.path,
                         os.path.join(self.instance_dir(spec['uuid']),
                                      'disk')), error.value)
        # The verified image stays cached, whole; nothing else is left.
        cached = self.base_files()
        self.assertEqual(2, len(cached), cached)
        self.assertNothingLeft(spec['uuid'], base_before=cached)
        self.assertEqual(0, self.agent.call('get_host_status')['instances'])

        give_back()
        record = self.create(spec)
        self.assertEqual('raw', record['disks'][0]['format'])
        lh.wait_for_console(self.agent, spec['uuid'], marker)
        self.assertEqual(cached, self.base_files())

    def test_a_fetch_that_fills_the_disk_then_fits(self):
        marker = lh.new_marker('FETCH')
        ref = self.full_image('fetch.raw', 40, marker)
        give_back = self.take_room(30)
        spec = self.spec([{'source': {'image': ref}, 'boot_index': 1}])
        error = self.assertRefusedForRoom(
            spec, 'no space left on the filesystem at %s writing %s/_base/'
            % (self.small.path, self.small.path))
        self.assertIn('(image %s fetched into the cache)' % ref, error.value)
        # No partial image in the cache.
        self.assertNothingLeft(spec['uuid'], base_before=set())

        give_back()
        record = self.create(spec)
        self.assertEqual('qcow2', record['disks'][0]['format'])
        lh.wait_for_console(self.agent, spec['uuid'], marker)
