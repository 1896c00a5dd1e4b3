"""Tests of reading console logs across rotated files (consolelog)."""

import builtins
import os

import fixtures

from computeagent import exception
from computeagent.virt import consolelog
from tests import base


class CountingOpen(object):
    """``open`` that counts the files opened and the bytes read from them.

    Installed as ``computeagent.virt.consolelog.open`` so only the module under
    test is observed.
    """

    def __init__(self):
        self.opened = []
        self.bytes_read = 0

    def __call__(self, name, mode='r', *args, **kwargs):
        f = builtins.open(name, mode, *args, **kwargs)
        self.opened.append(os.path.basename(name))
        return _CountingFile(f, self)


class _CountingFile(object):

    def __init__(self, f, counter):
        self._f = f
        self._counter = counter

    def read(self, *args):
        data = self._f.read(*args)
        self._counter.bytes_read += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


class ConsoleLogTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.tmp, 'console.log')

    def write(self, suffix, data):
        """Write ``console.log<suffix>``: '' for the log, '.0', '.1'..."""
        with open(self.path + suffix, 'wb') as f:
            f.write(data)

    def rotated(self, *contents):
        """The log's files, oldest first: (.1, .0, console.log) for 3."""
        suffixes = ['.%d' % i for i in range(len(contents) - 2, -1, -1)]
        for suffix, data in zip(suffixes + [''], contents):
            self.write(suffix, data)

    def counting(self):
        counter = CountingOpen()
        self.useFixture(fixtures.MonkeyPatch(
            'computeagent.virt.consolelog.open', counter))
        return counter

    def tail(self, **kwargs):
        return consolelog.read_tail(self.path, **kwargs)


class TestLogFiles(ConsoleLogTestCase):

    def test_newest_first(self):
        self.rotated(b'1', b'2', b'3', b'4')
        self.assertEqual([self.path, self.path + '.0', self.path + '.1',
                          self.path + '.2'], consolelog.log_files(self.path))

    def test_backups_without_the_log(self):
        # Between virtlogd's rename and its next write.
        self.write('.0', b'x')
        self.assertEqual([self.path + '.0'],
                         consolelog.log_files(self.path))

    def test_nothing(self):
        self.assertEqual([], consolelog.log_files(self.path))


class TestReadTail(ConsoleLogTestCase):

    def test_everything_across_the_rotated_files(self):
        self.rotated(b'a\nb\n', b'c\nd\n', b'e\nf\n')
        self.assertEqual({'output': 'a\nb\nc\nd\ne\nf\n',
                          'truncated': False, 'size': 12}, self.tail())

    def test_no_log_yet(self):
        self.assertEqual({'output': '', 'truncated': False, 'size': 0},
                         self.tail())

    def test_empty_log(self):
        self.write('', b'')
        self.assertEqual({'output': '', 'truncated': False, 'size': 0},
                         self.tail(tail_lines=3))

    def test_tail_lines_within_the_newest_file(self):
        self.rotated(b'a\nb\n', b'c\nd\ne\n')
        self.assertEqual({'output': 'd\ne\n', 'truncated': True,
                          'size': 10}, self.tail(tail_lines=2))

    def test_tail_lines_across_files(self):
        self.rotated(b'a\nb\n', b'c\nd\n', b'e\nf\n')
        self.assertEqual('d\ne\nf\n', self.tail(tail_lines=3)['output'])
        self.assertEqual('b\nc\nd\ne\nf\n',
                         self.tail(tail_lines=5)['output'])

    def test_tail_lines_beyond_the_log(self):
        self.rotated(b'a\n', b'b\n')
        self.assertEqual({'output': 'a\nb\n', 'truncated': False,
                          'size': 4}, self.tail(tail_lines=10))

    def test_tail_lines_zero(self):
        self.write('', b'a\nb\n')
        self.assertEqual({'output': '', 'truncated': True, 'size': 4},
                         self.tail(tail_lines=0))

    def test_unterminated_last_line(self):
        self.write('', b'a\nb\nprompt$ ')
        self.assertEqual('b\nprompt$ ', self.tail(tail_lines=2)['output'])
        self.assertEqual('prompt$ ', self.tail(tail_lines=1)['output'])

    def test_a_line_split_by_rotation_is_one_line(self):
        # virtlogd rotates at a byte count, not at a line end.
        self.rotated(b'first\nsec', b'ond\nthird\n')
        self.assertEqual('second\nthird\n',
                         self.tail(tail_lines=2)['output'])

    def test_lines_end_at_newlines_only(self):
        # Serial consoles end lines with \r\n, often \r\r\n, and redraw
        # progress with a bare \r: none of these make extra lines.
        self.write('', b'boot\r\r\nlogin: \r\r\n'
                       b'10%\r50%\r100%\ndone\r\n')
        self.assertEqual('10%\r50%\r100%\ndone\r\n',
                         self.tail(tail_lines=2)['output'])
        self.assertEqual('login: \r\r\n10%\r50%\r100%\ndone\r\n',
                         self.tail(tail_lines=3)['output'])

    def test_max_bytes_keeps_the_newest_bytes(self):
        self.rotated(b'0123456789', b'abcdefghij')
        self.assertEqual({'output': '89abcdefghij', 'truncated': True,
                          'size': 20}, self.tail(max_bytes=12))
        self.assertEqual({'output': 'hij', 'truncated': True, 'size': 20},
                         self.tail(max_bytes=3))
        self.assertEqual({'output': '0123456789abcdefghij',
                          'truncated': False, 'size': 20},
                         self.tail(max_bytes=20))

    def test_the_smaller_of_max_bytes_and_tail_lines_wins(self):
        self.write('', b'aaaa\nbbbb\ncccc\n')
        self.assertEqual('cccc\n',
                         self.tail(tail_lines=1, max_bytes=100)['output'])
        self.assertEqual('cc\n',
                         self.tail(tail_lines=2, max_bytes=3)['output'])

    def test_bytes_that_are_not_utf8(self):
        self.write('', b'ok \xff\xfe\n\xc3\xa9t\xc3\xa9\n')
        result = self.tail()
        self.assertEqual('ok \ufffd\ufffd\n\u00e9t\u00e9\n',
                         result['output'])
        self.assertEqual(12, result['size'])
        self.assertFalse(result['truncated'])

    def test_max_bytes_never_starts_inside_a_character(self):
        # 'é' is two bytes; a cut after its first byte drops the rest of
        # it instead of showing a replacement character.
        self.write('', 'aé\nbé\n'.encode('utf-8'))
        result = self.tail(max_bytes=6)
        self.assertEqual('\nbé\n', result['output'])
        self.assertTrue(result['truncated'])


class TestVanishingFiles(ConsoleLogTestCase):

    def test_a_listed_file_that_is_gone(self):
        # Rotation renamed or deleted .0 after the listing: it counts for
        # nothing and the other files are still read.
        self.write('', b'new\n')
        self.write('.1', b'old\n')
        self.useFixture(fixtures.MockPatchObject(
            consolelog, 'log_files',
            return_value=[self.path, self.path + '.0', self.path + '.1']))
        self.assertEqual({'output': 'old\nnew\n', 'truncated': False,
                          'size': 8}, self.tail())

    def test_the_log_itself_is_gone(self):
        self.write('.0', b'before rotation\n')
        self.assertEqual({'output': 'before rotation\n',
                          'truncated': False, 'size': 16}, self.tail())


class TestReadsOnlyWhatItNeeds(ConsoleLogTestCase):

    BIG = 8 * 1024 * 1024

    def big(self, suffix, last_line=b'last line\n'):
        line = b'x' * 1023 + b'\n'
        with open(self.path + suffix, 'wb') as f:
            for _ in range(self.BIG // len(line)):
                f.write(line)
            f.write(last_line)

    def test_max_bytes_reads_one_block_of_a_big_log(self):
        self.big('')
        counter = self.counting()
        result = self.tail(max_bytes=100)
        self.assertEqual(100, len(result['output']))
        self.assertTrue(result['output'].endswith('last line\n'))
        self.assertEqual(self.BIG + 10, result['size'])
        self.assertTrue(result['truncated'])
        self.assertLessEqual(counter.bytes_read, consolelog.BLOCK)
        self.assertGreater(counter.bytes_read, 0)

    def test_tail_lines_reads_one_block_of_a_big_log(self):
        self.big('')
        counter = self.counting()
        result = self.tail(tail_lines=3, max_bytes=10 * 1024 * 1024)
        self.assertEqual(2, result['output'].count('x' * 1023))
        self.assertLessEqual(counter.bytes_read, consolelog.BLOCK)

    def test_older_backups_are_not_opened_when_not_needed(self):
        self.big('.1')
        self.write('.0', b'zero\n' * 10)
        self.write('', b'now\n')
        counter = self.counting()
        result = self.tail(tail_lines=3)
        self.assertEqual('zero\nzero\nnow\n', result['output'])
        self.assertEqual(['console.log', 'console.log.0'], counter.opened)
        self.assertEqual(54, counter.bytes_read)
        self.assertEqual(self.BIG + 10 + 54, result['size'])

    def test_max_bytes_across_a_big_backup(self):
        self.big('.0')
        self.write('', b'tail\n')
        counter = self.counting()
        result = self.tail(max_bytes=1000)
        self.assertTrue(result['output'].endswith('last line\ntail\n'))
        self.assertEqual(1000, len(result['output']))
        self.assertLessEqual(counter.bytes_read, 5 + consolelog.BLOCK)


def _refuse(name, mode='r', *args, **kwargs):
    raise PermissionError(13, 'Permission denied', name)


class TestUnreadableLog(ConsoleLogTestCase):

    def test_permission_denied_is_a_driver_error(self):
        # What a non-root agent without CAP_DAC_READ_SEARCH meets: the
        # log is virtlogd's, root:root 0600 (the tests run as root, so
        # open is what refuses here).
        self.write('', b'secret\n')
        self.useFixture(fixtures.MonkeyPatch(
            'computeagent.virt.consolelog.open', _refuse))
        error = self.assertRaises(exception.DriverError, self.tail)
        self.assertIn('cannot read the console log %s: Permission denied'
                      % self.path, str(error))
        self.assertIn('CAP_DAC_READ_SEARCH', str(error))
