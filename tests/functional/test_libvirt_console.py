"""Real QEMU guests: the serial console log through get_console_output.

console.log is written by virtlogd (root, 0600); the agent reads it and
its rotated backups. Rotation is tested for real: a guest that prints a
line counter without end fills more than virtlogd's 2 MiB, so virtlogd
itself makes console.log.0.
"""

import os

from tests.functional import libvirt_helpers as lh


def _counter_lines(text):
    """The whole counter lines of ``text`` as ints (partial ends dropped)."""
    lines = text.split('\r\n')
    # The first line may be cut by max_bytes, the last is unfinished.
    return [int(line, 16) for line in lines[1:-1]]


class TestConsole(lh.LibvirtTestCase):

    shared_agent = True

    def test_console_survives_reboots_and_restarts(self):
        marker = lh.new_marker('REBOOT')
        spec = self.spec([{'source': {'image': self.raw_image(
            'boot.img', marker)}, 'boot_index': 1}])
        self.create(spec)
        uuid = spec['uuid']
        call = self.agent.call
        lh.wait_for_console(self.agent, uuid, marker)

        record = call('reboot_instance', uuid=uuid, hard=True)
        self.assertEqual('running', record['state'])
        lh.wait_for_console(self.agent, uuid, marker, count=2)

        # Soft: the boot sector ignores ACPI, so after soft_reboot_timeout
        # (2 s here) the agent resets it.
        record = call('reboot_instance', uuid=uuid)
        self.assertEqual('running', record['state'])
        lh.wait_for_console(self.agent, uuid, marker, count=3)

        # A stop and start is a new QEMU process: virtlogd appends.
        self.assertEqual('shutoff', self.stop(uuid)['state'])
        self.assertEqual('running', call('start_instance',
                                         uuid=uuid)['state'])
        output = lh.wait_for_console(self.agent, uuid, marker, count=4)
        self.assertEqual(4, output.count(marker.decode()))
        self.assertEqual(4, self.read_console_file(uuid).count(marker))

    def test_tail_lines_and_max_bytes_on_the_real_log(self):
        lines = [lh.new_marker('LINE%d' % i) for i in range(4)]
        marker = b''.join(line + b'\r\n' for line in lines)
        spec = self.spec([{'source': {'image': self.raw_image(
            'boot.img', marker)}, 'boot_index': 1}])
        self.create(spec)
        uuid = spec['uuid']
        lh.wait_for_console(self.agent, uuid, marker)
        data = self.read_console_file(uuid)
        self.assertTrue(data.endswith(marker), data)
        text = data.decode('ascii')

        def console(**kwargs):
            return self.agent.call('get_console_output', uuid=uuid,
                                   **kwargs)
        self.assertEqual({'output': text, 'truncated': False,
                          'size': len(data)}, console())
        self.assertEqual({'output': (lines[2] + b'\r\n' + lines[3] +
                                     b'\r\n').decode(),
                          'truncated': True, 'size': len(data)},
                         console(tail_lines=2))
        self.assertEqual({'output': text[-7:], 'truncated': True,
                          'size': len(data)}, console(max_bytes=7))
        # Both limits: the smaller answer wins.
        self.assertEqual(text[-5:],
                         console(tail_lines=2, max_bytes=5)['output'])
        self.assertRemoteError('InvalidSpec', console, max_bytes=0)

    def test_rotated_logs_are_read_across_files(self):
        spec = self.spec([{'source': {'image': self.counter_image(
            'counter.img')}, 'boot_index': 1}])
        self.create(spec)
        uuid = spec['uuid']
        backup = self.console_file(uuid) + '.0'
        lh.poll(lambda: os.path.exists(backup), 240,
                'virtlogd rotating %s' % self.console_file(uuid))
        # Stopped, so the files hold still while they are compared, once
        # virtlogd has written what QEMU left in its pipe and closed
        # console.log (the backups it closed when it rotated).
        self.assertEqual('shutoff', self.stop(uuid)['state'])
        lh.poll(lambda: not lh.virtlogd_has_open(self.console_file(uuid)),
                30, 'virtlogd closing %s' % self.console_file(uuid))
        older = b''
        index = 0
        # Oldest first: console.log.<n> ... console.log.0 (virtlogd may
        # have rotated more than once before the stop).
        while os.path.exists('%s.%d' % (self.console_file(uuid), index)):
            with open('%s.%d' % (self.console_file(uuid), index),
                      'rb') as f:
                older = f.read() + older
            index += 1
        newer = self.read_console_file(uuid)
        total = len(older) + len(newer)

        # More bytes than console.log has: the answer starts in .0.
        want = len(newer) + 1000
        result = self.agent.call('get_console_output', uuid=uuid,
                                 max_bytes=want)
        self.assertEqual({'output': (older + newer)[-want:].decode(),
                          'truncated': True, 'size': total}, result)
        counters = _counter_lines(result['output'])
        self.assertGreater(len(counters), 90)
        self.assertEqual(list(range(counters[0], counters[0] +
                                    len(counters))), counters)

        # Lines too: more lines than console.log has.
        lines = newer.count(b'\n') + 50
        output = self.agent.call('get_console_output', uuid=uuid,
                                 tail_lines=lines,
                                 max_bytes=10 * 1024 * 1024)['output']
        counters = _counter_lines(output)
        self.assertGreaterEqual(len(counters), lines - 2)
        self.assertEqual(list(range(counters[0], counters[0] +
                                    len(counters))), counters)
