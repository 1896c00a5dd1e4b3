"""Real QEMU guests: udp and pipe serial ports, parallel ports (API 1.3).

Each backend is proven by the guest's own bytes where they land: a udp
port's marker in a UDP socket the test holds, a pipe port's in the FIFO
``serial<port>.out``, a parallel port's (a boot sector writing to LPT1,
tests/images.py) in ``parallel<port>.log``.
"""

import fcntl
import os
import signal
import socket
import stat
import struct
import termios

from tests.functional import libvirt_helpers as lh
from tests import images

#: the most a Linux pipe holds before a writer must wait (F_GETPIPE_SZ)
PIPE_BUFFER = 64 * 1024


def _udp_socket(test):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    test.addCleanup(sock.close)
    sock.bind(('127.0.0.1', 0))
    sock.settimeout(1)
    return sock


def _receive_until(sock, marker, timeout=60):
    """The datagrams' bytes up to ``marker``, and their last sender."""
    seen = {'data': b'', 'sender': None}

    def arrived():
        try:
            data, sender = sock.recvfrom(65536)
        except socket.timeout:
            return False
        seen['data'] += data
        seen['sender'] = sender
        return marker in seen['data']
    lh.poll(arrived, timeout, 'marker %r on udp port %d'
            % (marker, sock.getsockname()[1]))
    return seen['data'], seen['sender']


def _open_reader(test, path):
    """A non-blocking read end of a FIFO, closed at cleanup."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    test.addCleanup(os.close, fd)
    return fd


def _read_until(fd, marker, timeout=60):
    seen = {'data': b''}

    def arrived():
        try:
            seen['data'] += os.read(fd, 65536)
        except BlockingIOError:
            pass
        return marker in seen['data']
    try:
        lh.poll(arrived, timeout, 'marker %r in the FIFO' % marker)
    except AssertionError as e:
        raise AssertionError('%s; read %r' % (e, seen['data'][-200:]))
    return seen['data']


def _queued(fd):
    """Bytes waiting in a FIFO (FIONREAD)."""
    return struct.unpack('i', fcntl.ioctl(fd, termios.FIONREAD,
                                          b'\0\0\0\0'))[0]


class TestChardevs(lh.LibvirtTestCase):

    shared_agent = True

    def _boot_disk(self, marker):
        return {'source': {'image': self.raw_image('boot.img', marker)},
                'boot_index': 1}

    def _parallel_disk(self, marker):
        images.write_parallel_image(self.image_path('lpt.img'), marker)
        return {'source': {'image': self.image_ref('lpt.img')},
                'boot_index': 1}

    def test_udp_port_sends_the_guests_bytes_to_the_remote_end(self):
        marker = lh.new_marker('UDP')
        remote = _udp_socket(self)
        # A free udp port for the local end: QEMU binds it.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(('127.0.0.1', 0))
            bind_port = probe.getsockname()[1]
        spec = self.spec([self._boot_disk(marker)], serial_ports=[
            {'type': 'udp', 'port': remote.getsockname()[1],
             'bind_port': bind_port, 'log': True}])
        record = self.create(spec)
        uuid = spec['uuid']
        log = os.path.join(self.instance_dir(uuid), 'console.log')
        self.assertEqual(
            [{'index': 0, 'type': 'udp', 'path': None, 'log_file': log,
              'host': '127.0.0.1', 'port': remote.getsockname()[1],
              'bind_host': '127.0.0.1', 'bind_port': bind_port}],
            record['serial_ports'])
        data, sender = _receive_until(remote, marker)
        # From the local end the spec named.
        self.assertEqual(('127.0.0.1', bind_port), sender)
        # And logged too: the console of a udp port 0 is its log.
        lh.wait_for_console(self.agent, uuid, marker)
        sources = lh.dumpxml(uuid).findall('devices/serial/source')
        self.assertEqual(
            [('bind', '127.0.0.1', str(bind_port)),
             ('connect', '127.0.0.1', str(remote.getsockname()[1]))],
            [(s.get('mode'), s.get('host'), s.get('service'))
             for s in sources])

    def test_udp_port_to_a_host_not_allowed_is_refused(self):
        spec = self.spec([self._boot_disk(b'NEVER')], serial_ports=[
            {'type': 'udp', 'host': '192.0.2.1', 'port': 514}])
        error = self.assertRemoteError('InvalidSpec', self.agent.call,
                                       'create_instance', spec=spec)
        self.assertIn('serial_ports[0].host', str(error))
        self.assertIn('[serial] udp_allowed_hosts', str(error))
        self.assertFalse(os.path.exists(self.instance_dir(spec['uuid'])))

    def test_pipe_port_writes_to_its_fifo_across_restarts(self):
        marker = lh.new_marker('PIPE')
        spec = self.spec([self._boot_disk(marker)],
                         serial_ports=[{'type': 'pipe'}])
        record = self.create(spec)
        uuid = spec['uuid']
        base = os.path.join(self.instance_dir(uuid), 'serial0')
        self.assertEqual(
            [{'index': 0, 'type': 'pipe', 'path': base, 'log_file': None,
              'host': None, 'port': None, 'bind_host': None,
              'bind_port': None}], record['serial_ports'])
        self.assertIsNone(record['console_log'])
        for name in ('serial0.in', 'serial0.out'):
            mode = os.stat(os.path.join(self.instance_dir(uuid),
                                        name)).st_mode
            self.assertTrue(stat.S_ISFIFO(mode), name)
        self.assertEqual(base, lh.dumpxml(uuid).find(
            'devices/serial/source').get('path'))
        # QEMU holds both FIFOs open read-write, so what the guest wrote
        # before anyone opened the read end is waiting in it.
        reader = _open_reader(self, base + '.out')
        self.assertEqual(1, _read_until(reader, marker).count(marker))

        # A new QEMU process opens the FIFOs the agent made.
        self.assertEqual('shutoff', self.stop(uuid)['state'])
        self.assertEqual('running', self.agent.call(
            'start_instance', uuid=uuid)['state'])
        self.assertIn(marker, _read_until(reader, marker))

        self.agent.call('delete_instance', uuid=uuid)
        self.assertNothingLeft(uuid)

    @lh.own_agent
    def test_pipe_ports_survive_an_agent_restart(self):
        # Start-up recovery finds the guest running with its FIFOs, which
        # are the agent's own files: nothing is removed, the guest keeps
        # writing to them, and a delete removes them.
        marker = lh.new_marker('PIPEKILL')
        spec = self.spec([self._boot_disk(marker)],
                         serial_ports=[{'type': 'pipe'}],
                         parallel_ports=[{'type': 'pipe'}])
        record = self.create(spec)
        uuid = spec['uuid']
        directory = self.instance_dir(uuid)
        reader = _open_reader(self, os.path.join(directory, 'serial0.out'))
        _read_until(reader, marker)
        self.agent.stop(sig=signal.SIGKILL)
        self.agent.start()
        self.assertEqual(record, self.agent.call('get_instance', uuid=uuid))
        self.assertEqual(
            ['disk', 'instance.json', 'parallel0.in', 'parallel0.out',
             'serial0.in', 'serial0.out'], sorted(os.listdir(directory)))
        self.assertEqual('running', self.agent.call(
            'reboot_instance', uuid=uuid, hard=True)['state'])
        self.assertIn(marker, _read_until(reader, marker))
        self.agent.call('delete_instance', uuid=uuid)
        self.assertNothingLeft(uuid)

    def test_pipe_nobody_reads_holds_the_guest_not_qemu(self):
        # The counter guest prints without end; with nobody reading, the
        # FIFO fills. QEMU then drops the guest's bytes (the boot
        # sector does not wait for the UART) and keeps answering.
        spec = self.spec([{'source': {'image': self.counter_image(
            'counter.img')}, 'boot_index': 1}],
            serial_ports=[{'type': 'pipe'}])
        self.create(spec)
        uuid = spec['uuid']
        out = os.path.join(self.instance_dir(uuid), 'serial0.out')
        reader = _open_reader(self, out)
        lh.poll(lambda: _queued(reader) >= PIPE_BUFFER, 120,
                'the FIFO filling up')
        self.assertIn('running', lh.hmp(uuid, 'info status'))
        # Drained, it fills again: QEMU writes once there is room.
        drained = b''
        while len(drained) < PIPE_BUFFER:
            try:
                drained += os.read(reader, PIPE_BUFFER)
            except BlockingIOError:
                break
        self.assertGreaterEqual(len(drained), PIPE_BUFFER)
        lh.poll(lambda: _queued(reader) > 0, 60, 'the guest writing again')
        self.assertEqual('shutoff', self.stop(uuid)['state'])

    def test_a_failed_create_leaves_no_fifo(self):
        # QEMU cannot listen on a port the test holds: the guest does
        # not start, after the FIFOs were made.
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(holder.close)
        holder.bind(('127.0.0.1', 0))
        holder.listen(1)
        spec = self.spec([self._boot_disk(b'NEVER')], serial_ports=[
            {'type': 'pipe'}, {'type': 'tcp',
                               'port': holder.getsockname()[1]}])
        self.assertRemoteError('DriverError', self.agent.call,
                               'create_instance', spec=spec)
        self.assertNothingLeft(spec['uuid'])

    def test_parallel_port_file_gets_the_guests_lpt1_bytes(self):
        marker = lh.new_marker('LPT')
        spec = self.spec([self._parallel_disk(marker)],
                         parallel_ports=[{'type': 'file'}])
        record = self.create(spec)
        uuid = spec['uuid']
        log = os.path.join(self.instance_dir(uuid), 'parallel0.log')
        self.assertEqual(
            [{'index': 0, 'type': 'file', 'path': log, 'log_file': log,
              'host': None, 'port': None, 'bind_host': None,
              'bind_port': None}], record['parallel_ports'])

        def written():
            with open(log, 'rb') as f:
                return f.read()
        lh.poll(lambda: marker in written(), 60,
                'marker %r in %s' % (marker, log))
        # Written by virtlogd, as the serial logs are.
        self.assertTrue(lh.virtlogd_has_open(log))
        # Appended: a new QEMU process adds to what the last one wrote.
        self.assertEqual('shutoff', self.stop(uuid)['state'])
        self.assertEqual('running', self.agent.call(
            'start_instance', uuid=uuid)['state'])
        lh.poll(lambda: written().count(marker) == 2, 60,
                'marker %r twice in %s' % (marker, log))
        parallels = lh.dumpxml(uuid).findall('devices/parallel')
        self.assertEqual([('file', '0')], [
            (p.get('type'), p.find('target').get('port'))
            for p in parallels])
        self.assertEqual(record, self.agent.call('get_instance', uuid=uuid))

    def test_every_parallel_backend_starts(self):
        # libvirt 9.0 and QEMU take each backend on a <parallel>.
        marker = lh.new_marker('LPTS')
        remote = _udp_socket(self)
        tcp_port = lh.free_port()
        specs = [
            self.spec([self._parallel_disk(marker)], parallel_ports=[
                {'type': 'udp', 'port': remote.getsockname()[1]},
                {'type': 'pipe'}, {'type': 'null'}]),
            self.spec([self._parallel_disk(marker)], parallel_ports=[
                {'type': 'pty', 'log': True}, {'type': 'unix'},
                {'type': 'tcp', 'port': tcp_port}])]
        for spec in specs:
            self.create(spec)
        # LPT1 of the first is the udp port.
        self.assertIn(marker, _receive_until(remote, marker)[0])
        first, second = (spec['uuid'] for spec in specs)
        self.assertEqual(['udp', 'pipe', 'null'], [
            p.get('type') for p in
            lh.dumpxml(first).findall('devices/parallel')])
        for name in ('parallel1.in', 'parallel1.out'):
            self.assertTrue(stat.S_ISFIFO(os.stat(os.path.join(
                self.instance_dir(first), name)).st_mode))
        # LPT1 of the second is a pty, logged to parallel0.log.
        log = os.path.join(self.instance_dir(second), 'parallel0.log')

        def logged():
            with open(log, 'rb') as f:
                return marker in f.read()
        lh.poll(logged, 60, 'marker %r in %s' % (marker, log))
        self.assertTrue(stat.S_ISSOCK(os.stat(os.path.join(
            self.instance_dir(second), 'parallel1.sock')).st_mode))
        with socket.create_connection(('127.0.0.1', tcp_port), timeout=10):
            pass
        for spec in specs:
            self.agent.call('delete_instance', uuid=spec['uuid'])
            self.assertNothingLeft(spec['uuid'])
