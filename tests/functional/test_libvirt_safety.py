"""Real libvirt: unsafe images, dry runs, deletion and create rollback.

Whatever fails leaves nothing behind: no domain (``virsh list --all``),
no instance directory, no record, and ``_base`` as it was.
"""

import os
import socket
import subprocess
from xml.etree import ElementTree

import fixtures

from tests.functional import libvirt_helpers as lh


class TestSafety(lh.LibvirtTestCase):

    shared_agent = True

    def _warm_cache(self):
        """Boot a good guest first, so _base and its lock dir exist.

        Then "_base as it was" compares two populated listings, and a
        leftover of the refused image would stand out.
        """
        marker = lh.new_marker('GOOD')
        spec = self.spec([{'source': {'image': self.raw_image(
            'good.img', marker)}, 'boot_index': 1}])
        self.create(spec)
        lh.wait_for_console(self.agent, spec['uuid'], marker)
        before = self.base_files()
        self.assertTrue(before)
        return before

    def _qemu_img_create(self, *args):
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2'] +
                       list(args), check=True, timeout=60)

    def _assert_refused(self, image, base_before, what):
        spec = self.spec([{'source': {'image': image}, 'boot_index': 1}])
        error = self.assertRemoteError('ImageUnsafe', self.agent.call,
                                       'create_instance', spec=spec)
        self.assertIn(what, error.value)
        self.assertNothingLeft(spec['uuid'], base_before)
        # The refused bytes are not kept anywhere under instances_path.
        for name in self.base_files():
            self.assertFalse(name.startswith('.tmp-'), name)

    def test_qcow2_backed_by_a_host_file_is_refused(self):
        before = self._warm_cache()
        evil = self.image_path('evil.qcow2')
        self._qemu_img_create('-b', '/etc/shadow', '-F', 'raw', evil, '1M')
        self._assert_refused(self.image_ref('evil.qcow2'), before,
                             'backing')

    def test_qcow2_with_an_external_data_file_is_refused(self):
        before = self._warm_cache()
        secret = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'secret.raw')
        with open(secret, 'wb') as f:
            f.write(b'host secret'.ljust(1024 * 1024, b'\0'))
        evil = self.image_path('evil-data.qcow2')
        self._qemu_img_create('-o', 'data_file=%s,data_file_raw=on'
                              % secret, evil, '1M')
        self._assert_refused(self.image_ref('evil-data.qcow2'), before,
                             'data')

    def test_images_without_content_are_refused(self):
        before = self._warm_cache()
        open(self.image_path('empty.img'), 'wb').close()
        self._assert_refused(self.image_ref('empty.img'), before,
                             'empty (0 bytes)')
        self._qemu_img_create(self.image_path('zero.qcow2'), '0')
        self._assert_refused(self.image_ref('zero.qcow2'), before,
                             'no content (virtual size 0)')

    @lh.own_agent
    def test_render_instance_creates_nothing(self):
        spec = self.spec([
            {'source': {'image': self.raw_image('r.img', b'R')},
             'boot_index': 1},
            {'source': {'blank': True}, 'size_mb': 4, 'format': 'raw'}])
        uuid = spec['uuid']
        result = self.agent.call('render_instance', spec=spec)
        self.assertEqual({'domain_xml', 'disks'}, set(result))
        domain = ElementTree.fromstring(result['domain_xml'])
        self.assertEqual(uuid, domain.findtext('uuid'))
        self.assertEqual('instance-%s' % uuid, domain.findtext('name'))
        self.assertEqual('qemu', domain.get('type'))
        directory = self.instance_dir(uuid)
        disks = {d['target']: d for d in result['disks']}
        self.assertEqual({'vda', 'vdb'}, set(disks))
        self.assertEqual((os.path.join(directory, 'disk'), 'qcow2'),
                         (disks['vda']['path'], disks['vda']['format']))
        self.assertEqual(self.base_dir(),
                         os.path.dirname(disks['vda']['backing']))
        self.assertEqual((os.path.join(directory, 'disk.vdb'), 'raw',
                          None),
                         (disks['vdb']['path'], disks['vdb']['format'],
                          disks['vdb']['backing']))
        self.assertEqual(disks['vda']['path'], lh.find_disk(
            domain, 'vda').find('source').get('file'))
        # A dry run: nothing on the host, not even the image in _base.
        self.assertNothingLeft(uuid, base_before=set())
        self.assertEqual([], self.agent.call('list_instances'))

    def test_delete_removes_the_domain_and_the_instance_dir(self):
        marker = lh.new_marker('DELETE')
        spec = self.spec([
            {'source': {'image': self.raw_image('d.img', marker)},
             'boot_index': 1},
            {'source': {'blank': True}, 'size_mb': 1}])
        self.create(spec)
        uuid = spec['uuid']
        lh.wait_for_console(self.agent, uuid, marker)
        self.assertIn(uuid, lh.domain_uuids())
        base = self.base_files()
        self.assertEqual({'uuid': uuid, 'deleted': True},
                         self.agent.call('delete_instance', uuid=uuid))
        self.assertNothingLeft(uuid)
        # The image cache is shared: deleting an instance keeps it.
        self.assertEqual(base, self.base_files())

    @lh.own_agent
    def test_failed_start_rolls_back_everything(self):
        marker = lh.new_marker('ROLLBACK')
        # The chardev cannot listen on a port the test holds: libvirt
        # refuses at start, after the disks were made and the domain was
        # defined.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
            held.bind(('127.0.0.1', 0))
            held.listen(1)
            port = held.getsockname()[1]
            spec = self.spec(
                [{'source': {'image': self.raw_image('b.img', marker)},
                  'boot_index': 1}],
                serial_ports=[{'type': 'file'},
                              {'type': 'tcp', 'port': port}])
            error = self.assertRemoteError('DriverError', self.agent.call,
                                           'create_instance', spec=spec)
        self.assertIn('The hypervisor refused', error.value)
        # libvirt passes QEMU's own reason on when it reads it from the
        # guest's log in time; on a loaded host it may have only the
        # monitor closing (seen once in CI).
        if 'Address already in use' in error.value:
            self.assertIn(str(port), error.value)
        else:
            self.assertIn('qemu unexpectedly closed the monitor',
                          error.value)
        self.assertNothingLeft(spec['uuid'])
        self.assertEqual([], self.agent.call('list_instances'))
