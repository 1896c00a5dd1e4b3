"""Real QEMU guests: boot menu, video and serial port backends.

Checked in the live domain XML of the running guest, and from the host
side where a backend makes something (a unix socket, a listening TCP
port, a pty, a log file).
"""

import os
import socket
import stat

from tests.functional import libvirt_helpers as lh


class TestDevices(lh.LibvirtTestCase):

    shared_agent = True

    def _boot_disk(self, marker):
        return {'source': {'image': self.raw_image('boot.img', marker)},
                'boot_index': 1}

    def test_boot_menu(self):
        marker = lh.new_marker('MENU')
        with_menu = self.spec([self._boot_disk(marker)], boot_menu=True)
        without = self.spec([self._boot_disk(marker)])
        self.create(with_menu)
        self.create(without)
        menu = lh.dumpxml(with_menu['uuid']).find('os/bootmenu')
        self.assertIsNotNone(menu)
        self.assertEqual('yes', menu.get('enable'))
        self.assertIsNone(lh.dumpxml(without['uuid']).find('os/bootmenu'))
        # The menu waits for its timeout, then the disk still boots.
        lh.wait_for_console(self.agent, with_menu['uuid'], marker)

    def test_video_models(self):
        marker = lh.new_marker('VIDEO')
        uuids = {}
        for model in ('none', 'vga', 'cirrus'):
            spec = self.spec([self._boot_disk(marker)], video=model)
            self.create(spec)
            uuids[model] = spec['uuid']
        for model, uuid in uuids.items():
            lh.wait_for_console(self.agent, uuid, marker)
            models = [v.get('type') for v in
                      lh.dumpxml(uuid).findall('devices/video/model')]
            self.assertEqual([model], models, model)

    def test_file_pty_unix_tcp_serial_ports(self):
        marker = lh.new_marker('SERIALS')
        port = lh.free_port()
        spec = self.spec([self._boot_disk(marker)], serial_ports=[
            {'type': 'file'}, {'type': 'pty'}, {'type': 'unix'},
            {'type': 'tcp', 'port': port}])
        record = self.create(spec)
        uuid = spec['uuid']
        lh.wait_for_console(self.agent, uuid, marker)
        directory = self.instance_dir(uuid)
        serials = lh.dumpxml(uuid).findall('devices/serial')
        self.assertEqual([('file', '0'), ('pty', '1'), ('unix', '2'),
                          ('tcp', '3')],
                         [(s.get('type'), s.find('target').get('port'))
                          for s in serials])
        file_, pty, unix, tcp = serials

        self.assertEqual(os.path.join(directory, 'console.log'),
                         file_.find('source').get('path'))
        self.assertEqual(record['console_log'],
                         file_.find('source').get('path'))

        # libvirt fills in the pty it allocated.
        pty_path = pty.find('source').get('path')
        self.assertTrue(pty_path.startswith('/dev/pts/'), pty_path)
        self.assertTrue(stat.S_ISCHR(os.stat(pty_path).st_mode))

        sock_path = os.path.join(directory, 'serial2.sock')
        self.assertEqual(sock_path, unix.find('source').get('path'))
        self.assertEqual('bind', unix.find('source').get('mode'))
        self.assertTrue(stat.S_ISSOCK(os.stat(sock_path).st_mode))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(sock_path)

        source = tcp.find('source')
        self.assertEqual(('bind', '127.0.0.1', str(port)),
                         (source.get('mode'), source.get('host'),
                          source.get('service')))
        with socket.create_connection(('127.0.0.1', port), timeout=10):
            pass

    def test_logged_pty_and_null_serial_ports(self):
        marker = lh.new_marker('PTYLOG')
        spec = self.spec([self._boot_disk(marker)], serial_ports=[
            {'type': 'pty', 'log': True}, {'type': 'null'}])
        record = self.create(spec)
        uuid = spec['uuid']
        log = os.path.join(self.instance_dir(uuid), 'console.log')
        self.assertEqual(log, record['console_log'])
        # Port 0 is a pty; its log file still gets the guest's output.
        lh.wait_for_console(self.agent, uuid, marker)
        self.assertIn(marker, self.read_console_file(uuid))
        serials = lh.dumpxml(uuid).findall('devices/serial')
        self.assertEqual(['pty', 'null'], [s.get('type') for s in serials])
        self.assertEqual(log, serials[0].find('log').get('file'))

    def test_no_file_port_means_an_empty_console(self):
        marker = lh.new_marker('NULLCONSOLE')
        spec = self.spec([self._boot_disk(marker)],
                         serial_ports=[{'type': 'null'}])
        record = self.create(spec)
        self.assertIsNone(record['console_log'])
        self.assertEqual({'output': '', 'truncated': False, 'size': 0},
                         self.agent.call('get_console_output',
                                         uuid=spec['uuid']))
        self.assertEqual(['null'], [s.get('type') for s in lh.dumpxml(
            spec['uuid']).findall('devices/serial')])
