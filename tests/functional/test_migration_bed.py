"""The migration test bed live-migrates a running guest without a break.

A TCG guest that prints a counter on its serial port, one line per BIOS
tick (tests/images.py), is defined and started on daemon ``a`` of a
:class:`MigrationBed`, migrated live to ``b`` and back. Its disk and its
serial log (a ``file`` chardev with ``append='on'``, written by each
daemon's virtlogd in turn) are in the bed's shared directory. The
counter in the log must run from 0 with no gap and no repeat across both
migrations: the guest never stopped, restarted or lost state, and the
log kept its history when the other virtlogd took it over.

The parser's check and the counter's code are tested here as well: on
made-up logs (a restarted or skipping counter must fail it), and against
what nasm assembles.
"""

import os
import subprocess
import threading
import time
import uuid as uuid_mod
from xml.etree import ElementTree

import fixtures
import libvirt
import testtools
from testtools import content

from tests.functional import base
from tests.functional import libvirt_helpers as lh
from tests.functional import migration_bed
from tests.functional import serial_counter
from tests import images

_DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'>
      <source path='{log}' append='on'/>
      <target port='0'/>
    </serial>
  </devices>
</domain>
"""
#: counter lines to see before a migration, and after one: about 1 s
LINES = round(images.TICKING_COUNTER_HZ)
#: seconds to wait for them: TCG on a busy shared machine is slow
WAIT = 30
#: seconds the guest's output may pause during a live migration: 86 to
#: 106 ms were seen (a downtime of 35 to 58 ms plus up to a tick), ten
#: times that for a shared, busy machine
MAX_PAUSE = 1.0


class LogWatcher(threading.Thread):
    """Notes when the serial log grows, until stopped.

    The longest time without new output while a migration runs is the
    pause of the guest as its console shows it: the downtime plus up to
    one tick (55 ms) plus virtlogd's delay.
    """

    def __init__(self, path, interval=0.005):
        super().__init__(daemon=True)
        self.path = path
        self.interval = interval
        self.growths = []  # (monotonic time, size)
        self._stopping = threading.Event()

    def run(self):
        size = -1
        while not self._stopping.is_set():
            try:
                now_size = os.stat(self.path).st_size
            except FileNotFoundError:
                now_size = -1
            if now_size != size:
                size = now_size
                self.growths.append((time.monotonic(), size))
            time.sleep(self.interval)

    def stop(self):
        self._stopping.set()
        self.join()

    def longest_pause(self, start, end):
        """The longest interval between growths that overlaps [start, end].

        :returns: (seconds, time it began)
        """
        times = [t for t, _size in self.growths]
        longest = (0.0, None)
        for before, after in zip(times, times[1:]):
            if after >= start and before <= end:
                longest = max(longest, (after - before, before))
        return longest


class TestSerialCounterCheck(testtools.TestCase):
    """The check fails for a counter that restarted, skipped or stopped."""

    MARKER = 'MARK-1'

    def log(self, *lines, tail=''):
        return '\r\n'.join(('SeaBIOS noise', self.MARKER) + lines) + (
            '\r\n' + tail)

    def test_continuous(self):
        text = self.log(*('%08d' % i for i in range(12)), tail='0000001')
        self.assertEqual(list(range(12)), serial_counter.check(
            serial_counter.parse(text, self.MARKER)))
        self.assertEqual(list(range(12)), serial_counter.check(
            serial_counter.parse(text.encode(), self.MARKER.encode())))

    def test_gap_fails(self):
        numbers = serial_counter.parse(
            self.log('00000000', '00000001', '00000003'), self.MARKER)
        self.assertEqual([(2, 1, 3)], serial_counter.breaks(numbers))
        self.assertRaises(serial_counter.CounterError,
                          serial_counter.check, numbers)

    def test_repeat_fails(self):
        # State rolled back: e.g. the source's last lines again.
        numbers = serial_counter.parse(
            self.log('00000000', '00000001', '00000002', '00000001',
                     '00000002'), self.MARKER)
        self.assertRaises(serial_counter.CounterError,
                          serial_counter.check, numbers)

    def test_restart_fails(self):
        # A guest booted again prints the marker and counts from 0 again.
        text = self.log('00000000', '00000001', self.MARKER, '00000000')
        self.assertRaises(serial_counter.CounterError, serial_counter.parse,
                          text, self.MARKER)
        # Without its marker line: the numbers repeat.
        self.assertRaises(
            serial_counter.CounterError, serial_counter.check,
            serial_counter.parse(self.log('00000000', '00000001',
                                          '00000000'), self.MARKER))

    def test_truncated_log_fails(self):
        # A log the destination truncated has lost the marker and 0...
        self.assertRaises(serial_counter.CounterError, serial_counter.parse,
                          '00000007\r\n00000008\r\n', self.MARKER)
        # ...or whatever it kept does not start at 0.
        self.assertRaises(
            serial_counter.CounterError, serial_counter.check,
            serial_counter.parse(self.log('00000005', '00000006'),
                                 self.MARKER))

    def test_no_line_or_garbage_fails(self):
        self.assertRaises(serial_counter.CounterError, serial_counter.check,
                          serial_counter.parse(self.log(), self.MARKER))
        self.assertRaises(serial_counter.CounterError, serial_counter.parse,
                          self.log('00000000', '000\x0000001'), self.MARKER)


class TestTickingCounterCode(testtools.TestCase):

    def test_code_is_what_nasm_assembles(self):
        # nasm is a host tool of the project (tools/install-packages.sh);
        # functional tests do not skip for a missing one.
        tmp = self.useFixture(fixtures.TempDir()).path
        src = os.path.join(tmp, 'counter.asm')
        out = os.path.join(tmp, 'counter.bin')
        with open(src, 'w') as f:
            f.write(images.TICKING_COUNTER_ASM + "db 'M', 13, 10, 0\n")
        subprocess.run(['nasm', '-f', 'bin', '-o', out, src], check=True)
        with open(out, 'rb') as f:
            code = f.read()
        self.assertEqual(code,
                         images.make_ticking_counter_sector(b'M')[:len(code)])


class TestMigrationBed(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.bed = self.useFixture(migration_bed.MigrationBed())
        self.conns = {d: self.bed.connect(d) for d in self.bed.daemons}
        self.timings = []
        self.addOnException(self._attach_timings)

    def _attach_timings(self, exc_info):
        self.addDetailUniqueName('migrations', content.text_content(
            '\n'.join(self.timings)))

    def define_counter_guest(self, daemon):
        """Define and start a counter guest on ``daemon``.

        :returns: (virDomain, marker, path of the serial log)
        """
        name = 'migbed-%s' % uuid_mod.uuid4().hex[:12]
        marker = lh.new_marker('MIGBED')
        guest_dir = os.path.join(self.bed.shared_dir, name)
        os.mkdir(guest_dir, 0o755)
        disk = images.write_ticking_counter_image(
            os.path.join(guest_dir, 'disk'), marker)
        log = os.path.join(guest_dir, 'console.log')
        dom = self.conns[daemon].defineXML(
            _DOMAIN_XML.format(name=name, disk=disk, log=log))
        dom.create()
        return dom, marker, log

    def wait_for_lines(self, log, marker, count, booted=True):
        """Until the log has ``count`` counter lines; the numbers.

        Every look checks the whole counter so far: from 0, no break.

        :param booted: whether the log had the marker line already: if
            it has not now, it lost its start (a truncated log fails at
            once rather than after WAIT)
        """
        def enough():
            try:
                with open(log, 'rb') as f:
                    data = f.read()
            except FileNotFoundError:
                if booted:
                    raise
                return None  # virtlogd has not made it yet
            if not booted and marker + b'\r\n' not in data:
                return None  # the guest has not booted that far yet
            numbers = serial_counter.parse(data, marker)
            if len(numbers) < count:
                return None
            return serial_counter.check(numbers)
        return lh.poll(enough, WAIT, '%d counter lines in %s' % (count, log))

    def migrate(self, dom, source, dest, log):
        """Live-migrate ``dom`` from ``source`` to ``dest``; check where.

        :returns: the virDomain on ``dest``
        """
        name = dom.name()
        watcher = LogWatcher(log)
        watcher.start()
        self.addCleanup(watcher.stop)
        start = time.monotonic()
        self.bed.migrate(dom, dest)
        end = time.monotonic()
        watcher.stop()

        moved = self.conns[dest].lookupByName(name)
        state, reason = moved.state()
        self.assertEqual((libvirt.VIR_DOMAIN_RUNNING,
                          libvirt.VIR_DOMAIN_RUNNING_MIGRATED),
                         (state, reason))
        self.assertTrue(moved.isPersistent())
        # Gone from the source: neither running nor defined (flags 0:
        # every domain, active or not).
        self.assertEqual([], self.conns[source].listAllDomains(0))

        stats = moved.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        pause, _at = watcher.longest_pause(start, end)
        self.timings.append(
            '%s -> %s: call %.2f s, job %d ms, downtime %d ms, longest '
            'pause of the serial output %.0f ms' % (
                source.host_uuid, dest.host_uuid, end - start,
                stats['time_elapsed'], stats['downtime'], pause * 1000))
        self.assertLess(pause, MAX_PAUSE, self.timings[-1])
        return moved

    def test_live_migration_there_and_back(self):
        a, b = self.bed.daemons
        # Two daemons, two host UUIDs: what libvirt checks.
        host_uuids = [ElementTree.fromstring(
            self.conns[d].getCapabilities()).findtext('host/uuid')
            for d in (a, b)]
        self.assertEqual([a.host_uuid, b.host_uuid], host_uuids)
        self.assertNotEqual(a.host_uuid, b.host_uuid)

        dom, marker, log = self.define_counter_guest(a)
        self.wait_for_lines(log, marker, LINES, booted=False)

        for source, dest in ((a, b), (b, a)):
            dom = self.migrate(dom, source, dest, log)
            # The guest runs on dest alone now: what it prints from here
            # on, dest's virtlogd appends. The log kept what came before
            # (append='on'; from 0, no break), and the counter goes on.
            at_switch = self.wait_for_lines(log, marker, 1)
            numbers = self.wait_for_lines(log, marker,
                                          len(at_switch) + LINES)

        self.addDetail('migrations', content.text_content(
            '\n'.join(self.timings)))
        self.assertEqual(list(range(len(numbers))), numbers)
