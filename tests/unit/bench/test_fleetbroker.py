"""The fleet bench's provisioning: provision's own grants, one import.

No broker here: the listings are given, and what would be imported is
read as the definitions it is. The import itself, and the check of what
the node then holds, run in the bench (tools/bench/fleet.py).
"""

from computeagent.fleet import provision
from computeagent.fleet import vhosts
from tests import base
from tools.bench import fleetbroker

T = 'computeagent'


class TestDefinitionsCtl(base.TestCase):

    def setUp(self):
        super().setUp()
        # Listings given: nothing is run (a unit test starts no process).
        self.ctl = fleetbroker.DefinitionsCtl(users={'guest'}, vhosts={'/'})
        provision.add_controller(self.ctl, T, 'ctrl', password='c')
        for host in ('a', 'b'):
            provision.add_host(self.ctl, T, host, ['ctrl'],
                               password='p-' + host)

    def test_records_the_hosts_vhosts_and_users_with_passwords(self):
        definitions = self.ctl.definitions()
        self.assertEqual([{'name': 'computeagent-a'},
                          {'name': 'computeagent-b'}],
                         definitions['vhosts'])
        self.assertEqual({'ctrl': 'c', 'a': 'p-a', 'b': 'p-b'},
                         {u['name']: u['password']
                          for u in definitions['users']})

    def test_grants_are_exactly_the_fleets(self):
        expected = [vhosts.host_grant(T, 'a'),
                    vhosts.controller_grant(T, 'a', 'ctrl'),
                    vhosts.host_grant(T, 'b'),
                    vhosts.controller_grant(T, 'b', 'ctrl')]
        self.assertEqual(expected, self.ctl.grants)
        definitions = self.ctl.definitions()
        self.assertEqual(
            [(g.user, g.vhost, g.configure, g.write, g.read)
             for g in expected],
            [(p['user'], p['vhost'], p['configure'], p['write'], p['read'])
             for p in definitions['permissions']])
        self.assertEqual(
            [(g.user, g.vhost, vhosts.EXCHANGE, g.topic_write, g.topic_read)
             for g in expected],
            [(p['user'], p['vhost'], p['exchange'], p['write'], p['read'])
             for p in definitions['topic_permissions']])

    def test_adding_again_changes_no_grant(self):
        before = self.ctl.definitions()
        provision.add_host(self.ctl, T, 'a', ['ctrl'], password='p-a')
        self.assertEqual(before, self.ctl.definitions())
        self.assertEqual(4, len(self.ctl.grants))

    def test_a_user_without_password_is_refused(self):
        self.assertRaises(fleetbroker.UnsupportedChange,
                          provision.add_host, self.ctl, T, 'c', ['ctrl'])

    def test_removals_are_refused(self):
        self.assertRaises(fleetbroker.UnsupportedChange,
                          provision.remove_host, self.ctl, T, 'a')


class TestDifferences(base.TestCase):

    def setUp(self):
        super().setUp()
        ctl = fleetbroker.DefinitionsCtl(users=(), vhosts=())
        provision.add_controller(ctl, T, 'ctrl', password='c')
        for host in ('a', 'b'):
            provision.add_host(ctl, T, host, ['ctrl'], password='p')
        self.grants = ctl.grants
        self.exported = ctl.definitions()
        # What else a node holds: guest's default vhost.
        self.exported['permissions'].append(
            {'user': 'guest', 'vhost': '/', 'configure': '.*',
             'write': '.*', 'read': '.*'})

    def test_none_when_the_node_holds_the_grants(self):
        self.assertEqual([], fleetbroker.differences(self.exported,
                                                     self.grants))

    def test_a_host_in_another_hosts_vhost(self):
        self.exported['permissions'].append(
            {'user': 'a', 'vhost': 'computeagent-b', 'configure': '',
             'write': '', 'read': '.*'})
        wrong = fleetbroker.differences(self.exported, self.grants)
        self.assertEqual(1, len(wrong))
        self.assertIn("not granted: ('permissions', 'a', 'computeagent-b'",
                      wrong[0])

    def test_a_permission_unlike_its_grant(self):
        self.exported['topic_permissions'][0]['write'] = '.*'
        wrong = fleetbroker.differences(self.exported, self.grants)
        self.assertEqual(2, len(wrong))
        self.assertTrue(wrong[0].startswith('missing: '), wrong)
        self.assertTrue(wrong[1].startswith('not granted: '), wrong)

    def test_a_missing_vhost(self):
        self.exported['permissions'] = [
            p for p in self.exported['permissions']
            if p['vhost'] != 'computeagent-b']
        self.assertEqual(2, len(fleetbroker.differences(self.exported,
                                                        self.grants)))
