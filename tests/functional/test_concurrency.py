"""Many requests at once against one agent running real guests.

Every thread has its own oslo.messaging RPC client, as separate
controllers would; they start together (a barrier) so their requests
overlap in the agent. Afterwards the records, libvirt and the instances
path must agree: nothing left that was deleted, nothing missing that was
not.
"""

import os
import threading

import oslo_messaging

from tests.functional import guest_state as gs
from tests.functional import libvirt_helpers as lh

WAIT = 300


class ConcurrencyTestCase(lh.LibvirtTestCase):

    def client(self):
        """A new RPC client of the agent, on the fixture's transport."""
        return oslo_messaging.get_rpc_client(
            self.agent.transport,
            oslo_messaging.Target(topic='computeagent',
                                  server=self.agent.host),
            timeout=WAIT)

    def run_together(self, func, count):
        """``func(index, client)`` in ``count`` threads started at once.

        :returns: the results in index order; an exception a thread
            raised is its result
        """
        barrier = threading.Barrier(count)
        results = [None] * count

        def run(index):
            client = self.client()
            try:
                barrier.wait(WAIT)
                results[index] = func(index, client)
            except Exception as error:
                results[index] = error

        threads = [threading.Thread(target=run, args=(i,))
                   for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
            self.assertFalse(thread.is_alive())
        return results


class TestCreateDelete(ConcurrencyTestCase):

    def test_twenty_creates_and_deletes(self):
        marker = lh.new_marker('MANY')
        image = self.raw_image('many.img', marker)
        specs = [self.spec([{'source': {'image': image}, 'boot_index': 1}],
                           name='many-%02d' % i) for i in range(20)]
        for spec in specs:
            self.addCleanup(self._delete_quietly, spec['uuid'])

        def create_then_delete(index, client):
            spec = specs[index]
            uuid = spec['uuid']
            record = client.call({}, 'create_instance', spec=spec)
            seen = (record['uuid'], record['name'], record['state'])
            lh.wait_for_console(self.agent, uuid, marker)
            running = gs.domstate(uuid)
            fetched = client.call({}, 'get_instance', uuid=uuid)
            deleted = client.call({}, 'delete_instance', uuid=uuid)
            return seen, running, fetched == record, deleted

        results = self.run_together(create_then_delete, len(specs))
        errors = [r for r in results if isinstance(r, Exception)]
        self.assertEqual([], errors, self.agent.log_tail(100))
        for spec, (seen, running, same, deleted) in zip(specs, results):
            uuid = spec['uuid']
            self.assertEqual((uuid, spec['name'], 'running'), seen)
            self.assertEqual(('running', 'booted'), running)
            self.assertTrue(same, uuid)
            self.assertEqual({'uuid': uuid, 'deleted': True}, deleted)

        # Records, libvirt and files agree: nothing is left.
        self.assertEqual([], self.agent.call('list_instances'))
        self.assertEqual(set(), {s['uuid'] for s in specs} &
                         lh.domain_uuids())
        self.assertEqual(['.outbox', '_base'],
                         sorted(os.listdir(self.agent.instances_path)))
        for spec in specs:
            self.assertRemoteError('InstanceNotFound', self.agent.call,
                                   'get_instance', uuid=spec['uuid'])
        # The shared image was fetched once, and stays.
        self.assertEqual(2, len(self.base_files()), self.base_files())
        status = self.agent.call('get_host_status')
        self.assertEqual((0, 0, 0), (status['instances'],
                                     status['vcpus_used'],
                                     status['memory_mb_used']))
        for event in ('instance.create.end', 'instance.delete.end'):
            self.assertEqual(
                sorted(s['uuid'] for s in specs),
                sorted(n['payload']['uuid']
                       for n in self.agent.notifications.of_type(event)))
        self.assertEqual([], self.agent.notifications.of_type(
            'instance.create.error'))
        self.assertEqual([], [line for line in
                              self.agent.log_text().splitlines()
                              if ' ERROR ' in line])


class TestLastMemory(ConcurrencyTestCase):

    FIT = 3

    def setUp(self):
        # Room for exactly FIT guests: (total - reserved) * 1.0.
        self.extra_options = {'DEFAULT': {
            'reserved_host_memory_mb':
                lh.host_memory_mb() - self.FIT * lh.GUEST_MEMORY_MB,
            'ram_allocation_ratio': 1.0}}
        super().setUp()

    def test_concurrent_creates_share_the_last_memory(self):
        image = self.raw_image('last.img', b'LAST')
        specs = [self.spec([{'source': {'image': image}}])
                 for _ in range(2 * self.FIT)]
        for spec in specs:
            self.addCleanup(self._delete_quietly, spec['uuid'])

        def create(index, client):
            return client.call({}, 'create_instance', spec=specs[index])

        results = self.run_together(create, len(specs))
        admitted = {r['uuid'] for r in results if isinstance(r, dict)}
        refused = [r for r in results if not isinstance(r, dict)]
        self.assertEqual(self.FIT, len(admitted), results)
        self.assertEqual(
            ['InsufficientResources'] * self.FIT,
            [getattr(r, 'exc_type', repr(r)) for r in refused])
        self.assertEqual(admitted, {r['uuid'] for r in self.agent.call(
            'list_instances') if r['state'] == 'running'})
        self.assertEqual(admitted, {s['uuid'] for s in specs} &
                         lh.domain_uuids())
        self.assertEqual(sorted(admitted | {'_base', '.outbox'}),
                         sorted(os.listdir(self.agent.instances_path)))
        status = self.agent.call('get_host_status')
        self.assertEqual(self.FIT * lh.GUEST_MEMORY_MB,
                         status['memory_mb_used'])
