"""docs/api.md over real RabbitMQ, against an agent running the fake driver."""

from tests.functional import base

RECORD_KEYS = {'uuid', 'name', 'host', 'state', 'vcpus', 'memory_mb',
               'disks', 'serial_ports', 'parallel_ports', 'console_log',
               'created_at', 'metadata', 'error'}
DISK_KEYS = {'target', 'device', 'bus', 'path', 'format', 'boot_index',
             'cache', 'aio', 'snapshot'}
STATUS_KEYS = {'host', 'driver', 'hypervisor', 'vcpus', 'vcpus_used',
               'memory_mb', 'memory_mb_used', 'disk_gb', 'disk_gb_free',
               'disk_mb', 'disk_mb_free', 'instances', 'version',
               'notifications_dropped'}


class TestApiWithFakeDriver(base.FunctionalTestCase):
    """The process's fake agent, with no instance when a test begins."""

    def setUp(self):
        super().setUp()
        self.agent = self.use_shared_agent('fake', empty=True)

    def spec(self, **extra):
        spec = {'uuid': self.new_uuid(), 'name': 'web-1',
                'disks': [{'source': {'image': 'demo.img'},
                           'boot_index': 1},
                          {'source': {'blank': True}, 'size_mb': 8},
                          {'source': {'image': 'demo.iso'},
                           'device': 'cdrom'}],
                'metadata': {'owner': 'ft'}}
        spec.update(extra)
        return spec

    def test_create_get_list_delete(self):
        spec = self.spec()
        record = self.agent.call('create_instance', spec=spec)
        self.assertEqual(RECORD_KEYS, set(record))
        self.assertEqual('running', record['state'])
        self.assertEqual(self.agent.host, record['host'])
        self.assertEqual({'owner': 'ft'}, record['metadata'])
        self.assertEqual(['vda', 'vdb', 'sda'],
                         [d['target'] for d in record['disks']])
        for disk in record['disks']:
            self.assertEqual(DISK_KEYS, set(disk))
        self.assertEqual('cdrom', record['disks'][2]['device'])
        self.assertEqual('sata', record['disks'][2]['bus'])
        self.assertEqual(record, self.agent.call('get_instance',
                                                 uuid=spec['uuid']))
        listed = self.agent.call('list_instances')
        self.assertEqual([spec['uuid']], [r['uuid'] for r in listed])

        self.assertEqual({'uuid': spec['uuid'], 'deleted': True},
                         self.agent.call('delete_instance',
                                         uuid=spec['uuid']))
        self.assertEqual([], self.agent.call('list_instances'))
        self.assertRemoteError('InstanceNotFound', self.agent.call,
                               'get_instance', uuid=spec['uuid'])

    def test_create_is_idempotent_and_refuses_a_different_spec(self):
        spec = self.spec()
        first = self.agent.call('create_instance', spec=spec)
        again = self.agent.call('create_instance', spec=spec)
        self.assertEqual(first, again)
        self.assertEqual(1, len(self.agent.call('list_instances')))
        self.assertRemoteError('InstanceExists', self.agent.call,
                               'create_instance',
                               spec=dict(spec, vcpus=2))

    def test_render_instance_creates_nothing(self):
        spec = self.spec()
        plan = self.agent.call('render_instance', spec=spec)
        self.assertIn(spec['uuid'], plan['domain_xml'])
        self.assertEqual(['vda', 'vdb', 'sda'],
                         [d['target'] for d in plan['disks']])
        self.assertEqual([], self.agent.call('list_instances'))
        self.assertRemoteError('InstanceNotFound', self.agent.call,
                               'get_instance', uuid=spec['uuid'])

    def test_power_lifecycle_and_invalid_state(self):
        uuid = self.agent.call('create_instance', spec=self.spec())['uuid']
        call = self.agent.call
        self.assertEqual('paused', call('pause_instance', uuid=uuid)['state'])
        self.assertRemoteError('InvalidState', call, 'pause_instance',
                               uuid=uuid)
        self.assertRemoteError('InvalidState', call, 'reboot_instance',
                               uuid=uuid)
        self.assertEqual('running',
                         call('unpause_instance', uuid=uuid)['state'])
        self.assertEqual('suspended',
                         call('suspend_instance', uuid=uuid)['state'])
        self.assertRemoteError('InvalidState', call, 'start_instance',
                               uuid=uuid)
        self.assertEqual('running',
                         call('resume_instance', uuid=uuid)['state'])
        self.assertEqual('running',
                         call('reboot_instance', uuid=uuid)['state'])
        self.assertEqual('shutoff', call('stop_instance', uuid=uuid,
                                         timeout=5)['state'])
        self.assertRemoteError('InvalidState', call, 'stop_instance',
                               uuid=uuid)
        self.assertEqual('running', call('reboot_instance', uuid=uuid,
                                         hard=True)['state'])
        self.assertEqual('shutoff', call('stop_instance',
                                         uuid=uuid)['state'])
        self.assertEqual('running', call('start_instance',
                                         uuid=uuid)['state'])
        self.assertEqual('running', call('get_instance', uuid=uuid)['state'])

    def test_disks_attach_detach_media_commit(self):
        spec = self.spec(disks=[
            {'source': {'image': 'demo.img'}, 'boot_index': 1,
             'snapshot': True},
            {'source': {'image': 'demo.iso'}, 'device': 'cdrom'}])
        uuid = self.agent.call('create_instance', spec=spec)['uuid']
        call = self.agent.call
        record = call('attach_disk', uuid=uuid,
                      disk={'source': {'blank': True}, 'size_mb': 16})
        self.assertEqual(['vda', 'sda', 'vdb'],
                         [d['target'] for d in record['disks']])
        record = call('attach_disk', uuid=uuid,
                      disk={'source': {'blank': True}, 'size_mb': 16,
                            'bus': 'scsi'})
        self.assertEqual('sdb', record['disks'][-1]['target'])
        record = call('detach_disk', uuid=uuid, target='vdb')
        self.assertEqual(['vda', 'sda', 'sdb'],
                         [d['target'] for d in record['disks']])
        self.assertRemoteError('InvalidSpec', call, 'detach_disk',
                               uuid=uuid, target='vdq')
        self.assertRemoteError('InvalidSpec', call, 'attach_disk',
                               uuid=uuid, disk={'source': {'blank': True}})
        record = call('change_media', uuid=uuid, target='sda')
        self.assertIsNone(record['disks'][1]['path'])
        record = call('change_media', uuid=uuid, target='sda',
                      image='other.iso')
        self.assertIn('other.iso', record['disks'][1]['path'])
        self.assertRemoteError('InvalidSpec', call, 'change_media',
                               uuid=uuid, target='vda', image='x.iso')
        call('commit_disk', uuid=uuid, target='vda')
        self.assertRemoteError('InvalidSpec', call, 'commit_disk',
                               uuid=uuid, target='sdb')
        call('stop_instance', uuid=uuid)
        self.assertRemoteError('InvalidState', call, 'commit_disk',
                               uuid=uuid, target='vda')

    def test_console_output(self):
        uuid = self.agent.call('create_instance', spec=self.spec())['uuid']
        out = self.agent.call('get_console_output', uuid=uuid)
        self.assertEqual({'output', 'truncated', 'size'}, set(out))
        self.assertIn(uuid, out['output'])
        self.assertFalse(out['truncated'])
        self.agent.call('reboot_instance', uuid=uuid, hard=True)
        out = self.agent.call('get_console_output', uuid=uuid, tail_lines=1)
        self.assertEqual(1, out['output'].count('\n'))
        self.assertIn('rebooting', out['output'])
        self.assertTrue(out['truncated'])
        self.assertRemoteError('InvalidSpec', self.agent.call,
                               'get_console_output', uuid=uuid,
                               tail_lines=-1)

    def test_host_status(self):
        self.agent.call('create_instance', spec=self.spec(vcpus=2,
                                                          memory_mb=256))
        status = self.agent.call('get_host_status')
        self.assertEqual(STATUS_KEYS, set(status))
        self.assertEqual(self.agent.host, status['host'])
        self.assertEqual('fake', status['driver'])
        self.assertEqual(1, status['instances'])
        self.assertEqual(2, status['vcpus_used'])
        self.assertEqual(256, status['memory_mb_used'])

    def test_errors_are_named_as_api_md_says(self):
        call = self.agent.call
        self.assertRemoteError('InvalidSpec', call, 'get_instance',
                               uuid='not-a-uuid')
        self.assertRemoteError('InstanceNotFound', call, 'delete_instance',
                               uuid=self.new_uuid())
        self.assertRemoteError('InvalidSpec', call, 'get_instance',
                               uuid=self.new_uuid(), bogus=1)
        self.assertRemoteError('InsufficientResources', call,
                               'create_instance',
                               spec=self.spec(memory_mb=1024 * 1024))
        self.assertEqual([], call('list_instances'))

    def test_cast_create_and_notifications(self):
        spec = self.spec()
        ctxt = {'request_id': 'req-functional-cast-1'}
        self.agent.cast('create_instance', ctxt=ctxt, spec=spec)
        end = self.agent.notifications.wait_for(
            'instance.create.end',
            predicate=lambda n: n['payload']['uuid'] == spec['uuid'])
        self.assertEqual('computeagent.%s' % self.agent.host,
                         end['publisher_id'])
        self.assertEqual('running', end['payload']['state'])
        self.assertIn('timings', end['payload'])
        self.assertEqual('req-functional-cast-1', end['ctxt']['request_id'])
        start = self.agent.notifications.of_type('instance.create.start')
        self.assertEqual(spec['uuid'], start[0]['payload']['uuid'])

        self.agent.cast('pause_instance', uuid=spec['uuid'])
        self.agent.notifications.wait_for('instance.pause.end')
        self.agent.cast('delete_instance', uuid=spec['uuid'])
        self.agent.notifications.wait_for('instance.delete.end')
        self.assertIn('req-functional-cast-1', self.agent.log_text())

    def test_failed_cast_create_sends_error_notification(self):
        # A cast's caller learns of a failure only from the notification.
        spec = self.spec(memory_mb=1024 * 1024)
        self.agent.cast('create_instance', spec=spec)
        error = self.agent.notifications.wait_for('instance.create.error')
        self.assertEqual('error', error['priority'])
        self.assertEqual(spec['uuid'], error['payload']['uuid'])
        self.assertEqual('InsufficientResources',
                         error['payload']['error_type'])
        self.assertIn('memory', error['payload']['error'])
        bad = self.spec(video='hologram')
        self.agent.cast('create_instance', spec=bad)
        error = self.agent.notifications.wait_for(
            'instance.create.error',
            predicate=lambda n: n['payload']['uuid'] == bad['uuid'])
        self.assertEqual('InvalidSpec', error['payload']['error_type'])
        self.assertIn('video', error['payload']['error'])
        self.assertEqual([], self.agent.call('list_instances'))

    def test_failed_cast_operation_sends_error_notification(self):
        uuid = self.agent.call('create_instance', spec=self.spec())['uuid']
        self.agent.cast('unpause_instance', uuid=uuid)
        error = self.agent.notifications.wait_for('instance.unpause.error')
        self.assertEqual('InvalidState', error['payload']['error_type'])
        self.assertEqual('running', error['payload']['state'])
        missing = self.new_uuid()
        self.agent.cast('delete_instance', uuid=missing)
        error = self.agent.notifications.wait_for('instance.delete.error')
        self.assertEqual(missing, error['payload']['uuid'])
        self.assertEqual('InstanceNotFound', error['payload']['error_type'])

    def test_periodic_host_status_notification(self):
        note = self.agent.notifications.wait_for('compute.host.status')
        self.assertEqual(STATUS_KEYS, set(note['payload']))
        self.assertEqual(self.agent.host, note['payload']['host'])
