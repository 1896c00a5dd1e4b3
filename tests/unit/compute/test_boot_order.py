"""Tests of set_boot_order: validation, record, notifications, crashes."""

import fixtures

from computeagent.compute import boot_order
from computeagent.compute import recovery
from computeagent import exception
from tests.unit import agentfixtures

MAC = '52:54:00:12:34:56'
DISKS = [{'source': {'image': 'a'}, 'boot_index': 1},
         {'source': {'blank': True}, 'size_mb': 8},
         {'source': {'blank': True}, 'device': 'cdrom'}]
NICS = [{'mac': MAC}]


class BootOrderTestCase(agentfixtures.ManagerTestCase):

    def setUp(self):
        super().setUp()
        self.uuid = self.create(disks=DISKS, nics=NICS)['uuid']

    def indexes(self, uuid=None):
        """(record's, spec's) boot indexes by device; they must agree."""
        stored = self.store.get_stored(uuid or self.uuid)
        record = {d.target: d.boot_index for d in stored.record.disks}
        spec = {d.target: d.boot_index for d in stored.spec.disks}
        self.assertEqual(record, spec)
        spec.update((n.mac, n.boot_index) for n in stored.spec.nics)
        return spec


class TestSetBootOrder(BootOrderTestCase):

    def test_listed_devices_boot_in_list_order_the_others_not(self):
        record = self.call('set_boot_order', uuid=self.uuid,
                           boot_order=['sda', MAC.upper(), 'vdb'])
        self.assertEqual({'vda': None, 'vdb': 3, 'sda': 1},
                         {d['target']: d['boot_index']
                          for d in record['disks']})
        self.assertEqual({'vda': None, 'vdb': 3, 'sda': 1, MAC: 2},
                         self.indexes())
        self.assertEqual(['sda', MAC, 'vdb'],
                         self.driver.boot_order(self.uuid))
        self.assertIsNone(self.store.get_stored(self.uuid).task)
        self.assertEqual(record, self.call('get_instance', uuid=self.uuid))

    def test_the_order_survives_a_restart(self):
        self.call('set_boot_order', uuid=self.uuid, boot_order=['vdb'])
        self.rebuild_manager()
        self.store.load_all()
        self.assertEqual({'vda': None, 'vdb': 1, 'sda': None, MAC: None},
                         self.indexes())

    def test_notifications(self):
        self.call('set_boot_order', uuid=self.uuid, boot_order=['vdb'])
        start, end = (self.notifications.payloads(
            'instance.set_boot_order.' + phase)[0]
            for phase in ('start', 'end'))
        self.assertEqual((1, None), (start['disks'][0]['boot_index'],
                                     start['disks'][1]['boot_index']))
        self.assertEqual((None, 1), (end['disks'][0]['boot_index'],
                                     end['disks'][1]['boot_index']))

    def test_invalid_lists(self):
        for order, field, reason in (
                ([], 'boot_order', 'at least one'),
                (None, 'boot_order', 'must be a list'),
                ({'vda': 1}, 'boot_order', 'must be a list'),
                (['vda', 'vdz'], 'boot_order[1]', 'has no disk or nic vdz'),
                (['vda', 7], 'boot_order[1]', 'not 7'),
                (['vda', 'vdb', 'vda'], 'boot_order[2]', 'listed twice'),
                ([MAC, MAC.upper()], 'boot_order[1]', 'listed twice'),
                (['52:54:00:00:00:01'], 'boot_order[0]', 'no disk or nic')):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'set_boot_order', uuid=self.uuid,
                                      boot_order=order)
            self.assertEqual(field, error.field, order)
            self.assertIn(reason, str(error))
        self.assertEqual({'vda': 1, 'vdb': None, 'sda': None, MAC: None},
                         self.indexes())
        self.assertIsNone(self.driver.boot_order(self.uuid))
        # Checked inside the operation: .start, then .error.
        self.assertEqual(8, len(self.notifications.payloads(
            'instance.set_boot_order.error')))

    def test_letters_boot_each_kind_in_turn_as_a_spec_would(self):
        record = self.call('set_boot_order', uuid=self.uuid,
                           boot_order='nd')
        self.assertEqual({'vda': None, 'vdb': None, 'sda': 2},
                         {d['target']: d['boot_index']
                          for d in record['disks']})
        self.assertEqual([MAC, 'sda'], self.driver.boot_order(self.uuid))
        stored = self.store.get_stored(self.uuid)
        # Stored as a create with these letters would store it.
        self.assertEqual('nd', stored.spec.boot_order)
        self.assertEqual([None] * 4,
                         [d.boot_index for d in stored.spec.disks] +
                         [n.boot_index for n in stored.spec.nics])
        # A list afterwards leaves the letters.
        self.call('set_boot_order', uuid=self.uuid, boot_order=['vdb'])
        stored = self.store.get_stored(self.uuid)
        self.assertIsNone(stored.spec.boot_order)
        self.assertEqual({'vda': None, 'vdb': 1, 'sda': None, MAC: None},
                         self.indexes())

    def test_bad_letters(self):
        for letters, reason in (('cx', 'none of the letters'),
                                ('cc', 'more than once'),
                                ('', '1 to 4 characters')):
            error = self.assertRaises(exception.InvalidSpec, self.call,
                                      'set_boot_order', uuid=self.uuid,
                                      boot_order=letters)
            self.assertEqual('boot_order', error.field)
            self.assertIn(reason, str(error))
        self.assertIsNone(self.driver.boot_order(self.uuid))

    def test_a_disk_being_detached_cannot_boot(self):
        self.driver.hold_detached_disks(self.uuid)
        self.assertRaises(exception.DriverError, self.call, 'detach_disk',
                          uuid=self.uuid, target='vdb')
        error = self.assertRaises(exception.InvalidSpec, self.call,
                                  'set_boot_order', uuid=self.uuid,
                                  boot_order=['vdb'])
        self.assertIn('vdb is being detached', str(error))

    def test_a_stopped_guest(self):
        self.call('stop_instance', uuid=self.uuid, timeout=0)
        record = self.call('set_boot_order', uuid=self.uuid,
                           boot_order=['vdb', 'vda'])
        self.assertEqual('shutoff', record['state'])
        self.assertEqual(['vdb', 'vda'], self.driver.boot_order(self.uuid))

    def test_a_refused_order_keeps_the_old_one(self):
        self.useFixture(fixtures.MockPatchObject(
            self.driver, 'set_boot_order',
            side_effect=exception.DriverError(reason='no')))
        self.assertRaises(exception.DriverError, self.call,
                          'set_boot_order', uuid=self.uuid,
                          boot_order=['vdb'])
        self.assertEqual({'vda': 1, 'vdb': None, 'sda': None, MAC: None},
                         self.indexes())
        self.assertIsNone(self.store.get_stored(self.uuid).task)


class TestInterrupted(BootOrderTestCase):
    """An agent killed between storing the order and defining it."""

    def kill_during_define(self):
        class Killed(BaseException):
            pass
        with fixtures.MockPatchObject(self.driver, 'set_boot_order',
                                      side_effect=Killed()):
            self.assertRaises(Killed, self.call, 'set_boot_order',
                              uuid=self.uuid, boot_order=['vdb', 'vda'])

    def restart(self):
        self.rebuild_manager()
        self.store.load_all()
        return recovery.recover(self.manager.reconciler)

    def test_the_order_is_stored_before_the_driver_is_asked(self):
        self.kill_during_define()
        stored = self.store.get_stored(self.uuid)
        self.assertEqual(boot_order.SETTING_BOOT_ORDER, stored.task)
        self.assertEqual(2, stored.record.disk('vda').boot_index)
        self.assertIsNone(self.driver.boot_order(self.uuid))

    def test_recovery_writes_the_stored_order_into_the_definition(self):
        self.kill_during_define()
        done = self.restart()
        self.assertEqual(1, done['boot order finished'])
        self.assertEqual(['vdb', 'vda'], self.driver.boot_order(self.uuid))
        self.assertIsNone(self.store.get_stored(self.uuid).task)
        self.assertEqual({'vda': 2, 'vdb': 1, 'sda': None, MAC: None},
                         self.indexes())

    def test_a_recovery_the_driver_refuses_keeps_the_task(self):
        self.kill_during_define()
        with fixtures.MockPatchObject(
                self.driver, 'set_boot_order',
                side_effect=exception.DriverError(reason='no')):
            done = self.restart()
        self.assertEqual(1, done['boot order not finished'])
        self.assertEqual(boot_order.SETTING_BOOT_ORDER,
                         self.store.get_stored(self.uuid).task)
        self.assertEqual('running', self.store.get(self.uuid).state)
        # The next reconciliation pass, the hypervisor willing, finishes it.
        self.manager.reconciler.reconcile()
        self.assertIsNone(self.store.get_stored(self.uuid).task)
        self.assertEqual(['vdb', 'vda'], self.driver.boot_order(self.uuid))
