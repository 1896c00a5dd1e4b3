"""A create on a filesystem that fills up: InsufficientResources, no trace.

Whatever write finds no room (the building record, a disk the driver
makes), the caller gets InsufficientResources, the create is rolled back
like any failed create, and the agent goes on serving: the same create
works once there is room.
"""

import errno
import os
import tempfile

import fixtures

from computeagent import exception
from computeagent.virt import diskspace
from computeagent.virt import layout
from tests.unit import agentfixtures


class TestCreateWithoutRoom(agentfixtures.ManagerTestCase):

    def assertNoTrace(self, uuid):
        self.assertRaises(exception.InstanceNotFound, self.call,
                          'get_instance', uuid=uuid)
        self.assertFalse(os.path.exists(self.instance_dir(uuid)))
        self.assertEqual({}, self.driver.list_power_states())

    def error_payload(self):
        (payload,) = self.notifications.payloads('instance.create.error')
        return payload

    def test_no_room_for_the_building_record(self):
        spec = agentfixtures.make_spec()
        real_mkstemp = tempfile.mkstemp
        room = []

        def mkstemp(*args, **kwargs):
            # The record's temporary file; the notifications' outbox
            # still has room.
            if kwargs.get('dir') == self.instance_dir(spec['uuid']) and (
                    not room):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_mkstemp(*args, **kwargs)
        self.useFixture(fixtures.MockPatch('tempfile.mkstemp',
                                           side_effect=mkstemp))
        error = self.assertRaises(exception.InsufficientResources, self.call,
                                  'create_instance', spec=spec)
        self.assertIn('the record of instance %s' % spec['uuid'], str(error))
        self.assertNoTrace(spec['uuid'])
        # Refused before it was accepted: no instance was touched.
        self.assertEqual(('InsufficientResources', None),
                         (self.error_payload()['error_type'],
                          self.error_payload()['state']))
        room.append(True)
        self.assertEqual('running', self.call('create_instance',
                                              spec=spec)['state'])

    def test_a_disk_that_fills_the_filesystem(self):
        real_spawn = self.driver.spawn
        full = []

        def spawn(spec, timings=None):
            # What the libvirt driver leaves when qemu-img runs out of
            # room: its disk half written (its own rollback removes it,
            # the manager's the rest).
            path = layout.disk_file(self.instance_dir(spec.uuid), 0, 'vda')
            with open(path, 'wb') as f:
                f.write(b'half a disk')
            full.append(path)
            raise diskspace.no_space(path, 'qemu-img convert')
        patch = self.useFixture(fixtures.MockPatchObject(
            self.driver, 'spawn', side_effect=spawn)).mock
        spec = agentfixtures.make_spec()
        error = self.assertRaises(exception.InsufficientResources, self.call,
                                  'create_instance', spec=spec)
        self.assertIn('writing %s (qemu-img convert)' % full[0], str(error))
        self.assertNoTrace(spec['uuid'])
        payload = self.error_payload()
        self.assertEqual(('InsufficientResources', 'error'),
                         (payload['error_type'], payload['state']))
        patch.side_effect = real_spawn
        self.assertEqual('running', self.call('create_instance',
                                              spec=spec)['state'])
