"""The libvirt driver's part in start-up recovery, on libvirt's test driver.

cleanup_orphan removes the domain and directory of an uuid the agent has
no record of only if all of it is the agent's; destroy refuses a domain
the agent did not define, so rolling back a create never removes someone
else's guest.
"""

import os

import fixtures

from computeagent import exception
from tests.host.drivers.libvirt import driver_base

UUID = driver_base.UUID
OTHER = '5d0c7a4e-8d4b-4a8e-9a57-1f3e1c2b7a60'


class TestCleanupOrphan(driver_base.DriverTestCase):

    def test_agent_files_without_a_domain_are_removed(self):
        self.make_instance_dir(UUID,
                               ('disk', 'disk.vdb', 'console.log', '.tmp'))
        self.assertIsNone(self.driver.cleanup_orphan(UUID, ignore=['.tmp']))
        self.assertFalse(os.path.exists(self.instance_dir(UUID)))

    def test_no_directory(self):
        self.assertIsNone(self.driver.cleanup_orphan(UUID))

    def test_unknown_files_are_left(self):
        self.make_instance_dir(UUID, ('disk', 'precious.img'))
        reason = self.driver.cleanup_orphan(UUID)
        self.assertIn('precious.img', reason)
        self.assertEqual({'disk', 'precious.img'},
                         set(os.listdir(self.instance_dir(UUID))))

    def test_a_domain_of_this_agent_goes_with_its_directory(self):
        # What a rollback that could not reach libvirtd and then lost its
        # record leaves: the domain carries the agent's mark.
        self.spawn()
        self.assertIsNone(self.driver.cleanup_orphan(UUID))
        self.assertEqual([], self.domain_uuids())
        self.assertFalse(os.path.exists(self.instance_dir(UUID)))

    def test_nothing_is_removed_while_a_foreign_domain_exists(self):
        xml = self.driver.render(self.spec())['domain_xml']
        self.conn.defineXML(xml.replace('computeagent:instance',
                                        'other:instance'))
        self.make_instance_dir(UUID, ('disk', 'console.log'))
        reason = self.driver.cleanup_orphan(UUID)
        self.assertIn('did not define', reason)
        self.assertEqual([UUID], self.domain_uuids())
        self.assertEqual({'disk', 'console.log'},
                         set(os.listdir(self.instance_dir(UUID))))

    def test_a_domain_undefined_while_it_is_looked_at(self):
        # Another agent on the same libvirtd removes its own domain
        # between the listing and the look at its definition.
        xml = self.driver.render(self.spec())['domain_xml']
        self.conn.defineXML(xml.replace('computeagent:instance',
                                        'other:instance'))
        real_made_here = self.driver._made_here

        def undefined_meanwhile(dom):
            self.conn.lookupByUUIDString(UUID).undefine()
            return real_made_here(dom)
        self.useFixture(fixtures.MockPatchObject(
            self.driver, '_made_here', side_effect=undefined_meanwhile))
        self.make_instance_dir(UUID, ('disk',))
        self.assertIsNone(self.driver.cleanup_orphan(UUID))
        self.assertFalse(os.path.exists(self.instance_dir(UUID)))

    def test_not_a_uuid(self):
        self.assertRaises(exception.InvalidSpec, self.driver.cleanup_orphan,
                          '../etc')


class TestDestroyOnlyOwnDomains(driver_base.DriverTestCase):

    def define_foreign(self, old, new):
        """A domain like the agent's for OTHER, with ``old`` made ``new``."""
        xml = self.driver.render(self.spec(uuid=OTHER))['domain_xml']
        self.assertIn(old, xml)
        self.conn.defineXML(xml.replace(old, new))

    def assertRefused(self):
        error = self.assertRaises(exception.DriverError, self.driver.destroy,
                                  driver_base.instance_of(OTHER))
        self.assertIn('not defined by this agent', str(error))
        self.assertEqual([OTHER], self.domain_uuids())

    def test_another_name(self):
        self.define_foreign('<name>instance-', '<name>someone-')
        self.assertRefused()

    def test_no_agent_metadata(self):
        self.define_foreign('computeagent:instance', 'other:instance')
        self.assertRefused()

    def test_files_of_another_instances_path(self):
        self.define_foreign(self.conf.instances_path, '/srv/elsewhere')
        self.assertRefused()

    def test_own_domain_is_destroyed(self):
        self.define_foreign('</name>', '</name>')
        self.driver.destroy(driver_base.instance_of(OTHER))
        self.assertEqual([], self.domain_uuids())


class TestInterruptedFetches(driver_base.DriverTestCase):

    def test_init_host_removes_temp_files_and_keeps_entries(self):
        record = self.spawn()  # a complete entry in _base
        base = os.path.join(self.conf.instances_path, '_base')
        entries = set(os.listdir(base))
        left = ['.tmp-dir-abc-0123abcd', '.tmp-dir-abc-0123abcd.json',
                '.tmp-other-key-99ff']
        for name in left:
            with open(os.path.join(base, name), 'w') as f:
                f.write('partial')
        fresh = self.new_driver()
        fresh.init_host('test-host')
        self.assertEqual(entries, set(os.listdir(base)))
        self.assertTrue(os.path.isfile(record.record.disks[0].path))
