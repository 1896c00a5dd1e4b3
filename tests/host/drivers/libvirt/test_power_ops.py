"""LibvirtDriver power operations on libvirt's test driver.

The test driver has no guest: ACPI requests are ignored (or shut the
domain off at once), so a soft reboot always ends in the reset and a
graceful shutdown always succeeds. What a real guest does is for the
functional tests.
"""

import dataclasses
import os

import fixtures
import libvirt

from computeagent import exception
from computeagent.virt import power
from computeagent_libvirt.config import bootorder
from computeagent_libvirt import domain
from tests.host.drivers.libvirt import driver_base
from tests.unit.drivers.libvirt import utils

UUID = utils.UUID


class PowerTestCase(driver_base.DriverTestCase):

    def state(self, record):
        return self.driver.get_power_state(record)


class TestPowerOps(PowerTestCase):

    def test_pause_unpause(self):
        record = self.spawn()
        self.driver.pause(record)
        self.assertEqual(libvirt.VIR_DOMAIN_PAUSED, self.lookup().state()[0])
        self.assertEqual(power.PAUSED, self.state(record))
        self.driver.unpause(record)
        self.assertEqual(libvirt.VIR_DOMAIN_RUNNING,
                         self.lookup().state()[0])

    def test_suspend_resume(self):
        record = self.spawn()
        self.driver.suspend(record)
        self.assertFalse(self.lookup().isActive())
        self.assertTrue(self.lookup().hasManagedSaveImage())
        self.assertEqual(power.SUSPENDED, self.state(record))
        self.driver.resume(record)
        self.assertEqual(power.RUNNING, self.state(record))
        self.assertFalse(self.lookup().hasManagedSaveImage())

    def test_suspend_paused_resumes_running(self):
        record = self.spawn()
        self.driver.pause(record)
        self.driver.suspend(record)
        self.driver.resume(record)
        self.assertEqual(power.RUNNING, self.state(record))

    def test_resume_without_saved_state(self):
        record = self.spawn()
        self.driver.power_off(record)
        error = self.assertRaises(exception.DriverError, self.driver.resume,
                                  record)
        self.assertIn('no saved state', str(error))
        self.assertEqual(power.SHUTOFF, self.state(record))

    def test_power_off_and_on(self):
        record = self.spawn()
        first_id = self.lookup().ID()
        self.driver.power_off(record, timeout=5)
        self.assertEqual(libvirt.VIR_DOMAIN_SHUTOFF,
                         self.lookup().state()[0])
        self.driver.power_on(record)
        self.assertTrue(self.lookup().isActive())
        self.assertNotEqual(first_id, self.lookup().ID())

    def test_power_off_forced(self):
        record = self.spawn()
        self.driver.power_off(record, timeout=0)
        self.assertEqual([libvirt.VIR_DOMAIN_SHUTOFF,
                          libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED],
                         self.lookup().state())

    def test_power_off_paused_and_off(self):
        record = self.spawn()
        self.driver.pause(record)
        self.driver.power_off(record)
        self.assertEqual(power.SHUTOFF, self.state(record))
        self.driver.power_off(record)
        self.assertEqual(power.SHUTOFF, self.state(record))

    def test_power_off_discards_managed_save(self):
        record = self.spawn()
        self.driver.suspend(record)
        self.driver.power_off(record)
        self.assertFalse(self.lookup().hasManagedSaveImage())
        self.assertEqual(power.SHUTOFF, self.state(record))

    def test_power_on_running_is_refused(self):
        record = self.spawn()
        error = self.assertRaises(exception.DriverError,
                                  self.driver.power_on, record)
        self.assertIn('already running', str(error))

    def test_libvirt_refusal_is_driver_error(self):
        record = self.spawn()
        self.driver.power_off(record)
        error = self.assertRaises(exception.DriverError, self.driver.pause,
                                  record)
        self.assertIn('not running', str(error))

    def test_missing_domain_is_driver_error(self):
        record = self.spawn()
        self.lookup().destroy()
        self.lookup().undefine()
        error = self.assertRaises(exception.DriverError,
                                  self.driver.power_on, record)
        self.assertIn('Domain not found', str(error))


class TestReboot(PowerTestCase):

    def test_soft_falls_back_to_reset(self):
        logger = self.useFixture(fixtures.FakeLogger())
        record = self.spawn()
        first_id = self.lookup().ID()
        self.driver.reboot(record)
        self.assertIn('did not reboot within 0 s', logger.output)
        self.assertEqual(power.RUNNING, self.state(record))
        # A reset, not a restart of the domain.
        self.assertEqual(first_id, self.lookup().ID())

    def test_soft_reboot_seen(self):
        # The test driver sends no reboot event (a guest would); here the
        # ACPI request is followed by what libvirt's event thread does on
        # one. The wait must end on it, without the reset fallback.
        logger = self.useFixture(fixtures.FakeLogger())
        self.flags(soft_reboot_timeout=60, group='libvirt')
        record = self.spawn()
        self.driver.waiter.note_reboot(UUID)  # an earlier reboot: ignored
        real_reboot = domain.Domain.reboot_acpi
        events = self.driver.host._events

        def reboot_acpi(dom):
            real_reboot(dom)
            events.reboot(self.conn, self.lookup(dom.uuid), None)
        self.useFixture(fixtures.MockPatchObject(
            domain.Domain, 'reboot_acpi', reboot_acpi))
        self.driver.reboot(record)
        self.assertNotIn('did not reboot', logger.output)
        self.assertEqual(power.RUNNING, self.state(record))

    def test_hard_running_and_paused(self):
        record = self.spawn()
        self.driver.reboot(record, hard=True)
        self.assertEqual(power.RUNNING, self.state(record))
        self.driver.pause(record)
        self.driver.reboot(record, hard=True)
        self.assertEqual(power.RUNNING, self.state(record))

    def test_hard_from_shutoff_starts(self):
        record = self.spawn()
        self.driver.power_off(record)
        self.driver.reboot(record, hard=True)
        self.assertEqual(power.RUNNING, self.state(record))

    def test_hard_from_suspended_boots_afresh(self):
        record = self.spawn()
        self.driver.suspend(record)
        self.driver.reboot(record, hard=True)
        self.assertEqual(power.RUNNING, self.state(record))
        self.assertFalse(self.lookup().hasManagedSaveImage())


class TestSnapshotOverlays(PowerTestCase):
    """The temporary overlay of a snapshot disk across stops and starts."""

    def setUp(self):
        super().setUp()
        self.record = self.spawn(self.spec(disks=[
            utils.make_disk(source={'image': 'boot.raw'}, boot_index=1,
                            snapshot=True)]))
        self.overlay = os.path.join(self.instance_dir(),
                                    'disk.vda.snapshot')
        self.disk = os.path.join(self.instance_dir(), 'disk')

    def test_stop_drops_and_start_recreates(self):
        self.assertTrue(os.path.isfile(self.overlay))
        self.driver.power_off(self.record)
        self.assertFalse(os.path.exists(self.overlay))
        self.assertTrue(os.path.isfile(self.disk))
        self.driver.power_on(self.record)
        self.assertTrue(os.path.isfile(self.overlay))
        self.assertEqual(self.overlay, self.disk_sources(
            self.lookup().XMLDesc(0))['vda'])

    def test_start_after_guest_stopped_itself_is_fresh(self):
        self.write_pattern(self.overlay, 'qcow2', 0x5a)
        # The guest powered off by itself: the driver was not asked.
        self.lookup().destroy()
        self.assertTrue(os.path.isfile(self.overlay))
        self.driver.power_on(self.record)
        self.assertFalse(self.has_pattern(self.overlay, 'qcow2', 0x5a))
        self.assertFalse(self.has_pattern(self.disk, 'qcow2', 0x5a))

    def test_hard_reboot_from_shutoff_is_fresh(self):
        self.lookup().destroy()
        self.write_pattern(self.overlay, 'qcow2', 0x5a)
        self.driver.reboot(self.record, hard=True)
        self.assertFalse(self.has_pattern(self.overlay, 'qcow2', 0x5a))

    def test_resume_keeps_the_overlay(self):
        self.driver.suspend(self.record)
        self.write_pattern(self.overlay, 'qcow2', 0x5a)
        self.driver.resume(self.record)
        self.assertTrue(self.has_pattern(self.overlay, 'qcow2', 0x5a))

    def test_pause_keeps_the_overlay(self):
        self.driver.pause(self.record)
        self.driver.unpause(self.record)
        self.assertTrue(os.path.isfile(self.overlay))


class TestHardRebootAfterSetBootOrder(PowerTestCase):
    """A hard reboot applies an order set_boot_order gave the definition.

    A reset would keep the QEMU process and the order it booted with (the
    functional tests show it on a real guest); the driver starts the
    guest again from its definition instead, and only then.
    """

    def setUp(self):
        super().setUp()
        self.record = self.spawn(self.spec(disks=[
            utils.make_disk(source={'image': 'boot.raw'}, boot_index=1),
            utils.make_disk(source={'image': 'data.qcow2'}, target='vdb',
                            boot_index=2)]))

    def live_orders(self):
        return bootorder.boot_orders(self.lookup().XMLDesc(0))

    def test_the_guest_is_started_again_in_the_new_order(self):
        spec = self.record.spec
        spec = dataclasses.replace(spec, disks=tuple(
            dataclasses.replace(d, boot_index={'vda': 2, 'vdb': 1}[d.target])
            for d in spec.disks))
        self.driver.set_boot_order(dataclasses.replace(self.record,
                                                       spec=spec))
        self.assertEqual({('disk', 'vda'): 1, ('disk', 'vdb'): 2},
                         self.live_orders())
        old_id = self.lookup().ID()
        self.driver.reboot(self.record, hard=True)
        self.assertEqual({('disk', 'vda'): 2, ('disk', 'vdb'): 1},
                         self.live_orders())
        self.assertNotEqual(old_id, self.lookup().ID())
        self.assertEqual(power.RUNNING, self.state(self.record))

    def test_otherwise_a_reset(self):
        old_id = self.lookup().ID()
        self.driver.reboot(self.record, hard=True)
        self.assertEqual(old_id, self.lookup().ID())
