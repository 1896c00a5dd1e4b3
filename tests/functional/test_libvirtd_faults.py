"""libvirtd killed (-9) during creates and deletes: the agent's word holds.

Each test runs an agent against a libvirtd of its own
(tests/functional/private_libvirtd.py), kills it at a point of a create
or a delete found from the outside (the instance's first disk file
appearing; the delete sent while libvirtd is down) and starts it again.
Whatever happened, once the agent has seen libvirtd back every instance
is running and listed, or completely gone (no domain, no directory, no
record); every cast create's outcome was notified; and a create that
failed works when sent again.
"""

import os
import time

from tests.functional import fixtures as ft_fixtures
from tests.functional import libvirt_helpers as lh
from tests.functional import private_libvirtd

#: seconds for the agent to settle after libvirtd is back: the reconnect,
#: then the resync of every instance
SETTLE_WITHIN = 60
#: how long requests wait for libvirtd in the tests where they give up
SHORT_RECONNECT = 2


class FaultTestCase(lh.LibvirtTestCase):

    reconnect_timeout = 60

    def setUp(self):
        ft_fixtures.ensure_services()
        self.libvirtd = self.useFixture(private_libvirtd.PrivateLibvirtd())
        self.extra_options = {
            'libvirt': {'connection_uri': self.libvirtd.uri,
                        'reconnect_timeout': self.reconnect_timeout},
            'DEFAULT': {'sync_power_state_interval': 2}}
        super().setUp()

    def boot_spec(self, label):
        marker = lh.new_marker(label)
        return self.spec([{'source': {'image': self.raw_image(
            '%s.img' % label.lower(), marker)}, 'boot_index': 1}])

    def domains(self):
        return set(self.libvirtd.virsh('list', '--all', '--uuid').split())

    def outcome(self, uuid, since):
        """The create.end or create.error notification of ``uuid``."""
        def match(item):
            return item['payload'].get('uuid') == uuid
        deadline = time.monotonic() + SETTLE_WITHIN
        while time.monotonic() < deadline:
            for event in ('instance.create.end', 'instance.create.error'):
                found = [i for i in self.agent.notifications.of_type(
                    event, since=since) if match(i)]
                if found:
                    return event
            time.sleep(lh.POLL_INTERVAL)
        self.fail('no outcome of the create of %s was notified' % uuid)

    def whole_or_gone(self, uuid):
        """'running' or 'gone' once the agent's word and libvirt agree."""
        try:
            record = self.agent.call('get_instance', uuid=uuid)
        except Exception as error:
            if 'InstanceNotFound' not in repr(error):
                raise
            record = None
        domains = self.domains()
        if record is None:
            if (uuid not in domains and
                    not os.path.exists(self.instance_dir(uuid))):
                return 'gone'
            return None
        if (record['state'] == 'running' and uuid in domains and
                self.libvirtd.virsh('domstate', uuid).strip() == 'running'):
            return 'running'
        return None

    def assertSettled(self, uuids):
        """Each instance is whole or gone; the listing says the same.

        :returns: dict of uuid to 'running' or 'gone'
        """
        ends = {}
        for uuid in uuids:
            ends[uuid] = lh.poll(lambda: self.whole_or_gone(uuid),
                                 SETTLE_WITHIN,
                                 '%s running and listed, or gone' % uuid)
        listed = {r['uuid'] for r in self.agent.call('list_instances')}
        self.assertEqual({u for u, end in ends.items() if end == 'running'},
                         listed & set(uuids))
        return ends

    def wait_for_a_domain(self, uuids):
        """Until libvirtd has one of the instances' domains: defined."""
        lh.poll(lambda: self.domains() & set(uuids), SETTLE_WITHIN,
                'a domain of %s' % uuids)

    def wait_for_first_disk(self, uuids):
        """Until one of the instances has a disk file: mid-create."""
        def found():
            for uuid in uuids:
                try:
                    names = os.listdir(self.instance_dir(uuid))
                except FileNotFoundError:
                    continue
                if any(name.startswith('disk') for name in names):
                    return True
            return False
        lh.poll(found, SETTLE_WITHIN, 'a disk file of %s' % uuids)

    def kill_during_creates(self, count, down_until):
        """Cast ``count`` creates, kill libvirtd mid-way, start it again.

        :param down_until: called while libvirtd is down; returns when it
            may start again
        :returns: (specs, notification mark before the casts)
        """
        specs = [self.boot_spec('FAULT%d' % i) for i in range(count)]
        since = self.agent.notifications.mark()
        for spec in specs:
            self.agent.cast('create_instance', spec=spec)
            self.addCleanup(self._delete_quietly, spec['uuid'])
        self.wait_for_first_disk([s['uuid'] for s in specs])
        self.libvirtd.stop_libvirtd()
        down_until()
        self.libvirtd.start_libvirtd()
        return specs, since

    def assertCreatesAgain(self, specs, ends):
        for spec in specs:
            if ends[spec['uuid']] == 'gone':
                record = self.agent.call('create_instance', spec=spec)
                self.assertEqual('running', record['state'])


class TestShortOutage(FaultTestCase):
    """libvirtd is back within the agent's reconnect_timeout."""

    def test_creates_in_flight(self):
        for _ in range(3):
            specs, since = self.kill_during_creates(
                2, lambda: time.sleep(1))
            uuids = [s['uuid'] for s in specs]
            for uuid in uuids:
                self.outcome(uuid, since)
            ends = self.assertSettled(uuids)
            self.assertCreatesAgain(specs, ends)


class TestLongOutage(FaultTestCase):
    """libvirtd stays away longer than requests wait for it."""

    reconnect_timeout = SHORT_RECONNECT

    def test_creates_in_flight(self):
        uuids = []

        def until_both_failed():
            for uuid in uuids:
                self.outcome(uuid, since)
        specs = [self.boot_spec('LONG%d' % i) for i in range(2)]
        uuids = [s['uuid'] for s in specs]
        since = self.agent.notifications.mark()
        for spec in specs:
            self.agent.cast('create_instance', spec=spec)
            self.addCleanup(self._delete_quietly, spec['uuid'])
        self.wait_for_first_disk(uuids)
        self.libvirtd.stop_libvirtd()
        until_both_failed()
        self.libvirtd.start_libvirtd()
        ends = self.assertSettled(uuids)
        self.assertEqual({'gone'}, set(ends.values()))
        self.assertCreatesAgain(specs, ends)

    def test_a_create_whose_domain_is_defined(self):
        # The fault of the issue: the rollback cannot remove the domain
        # it defined; the agent must not forget it.
        spec = self.boot_spec('DEFINED')
        uuid = spec['uuid']
        since = self.agent.notifications.mark()
        self.agent.cast('create_instance', spec=spec)
        self.addCleanup(self._delete_quietly, uuid)
        self.wait_for_a_domain([uuid])
        self.libvirtd.stop_libvirtd()
        if self.outcome(uuid, since) == 'instance.create.error':
            # Its domain is there and cannot be removed yet: the record
            # stays, saying so, instead of the domain being forgotten.
            record = self.agent.call('get_instance', uuid=uuid)
            self.assertEqual('error', record['state'])
            self.assertIn('could not be finished yet', record['error'])
        self.libvirtd.start_libvirtd()
        ends = self.assertSettled([uuid])
        self.assertCreatesAgain([spec], ends)

    def test_delete(self):
        spec = self.boot_spec('DELETE')
        self.create(spec)
        uuid = spec['uuid']
        since = self.agent.notifications.mark()
        self.libvirtd.stop_libvirtd()
        self.assertRemoteError('DriverError', self.agent.call,
                               'delete_instance', uuid=uuid)
        self.libvirtd.start_libvirtd()
        # The delete is finished once libvirtd is back, and said so.
        self.agent.notifications.wait_for(
            'instance.delete.end', SETTLE_WITHIN,
            lambda n: n['payload']['uuid'] == uuid, since=since)
        self.assertEqual({uuid: 'gone'}, self.assertSettled([uuid]))
        self.assertCreatesAgain([spec], {uuid: 'gone'})
