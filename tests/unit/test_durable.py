"""computeagent.durable: whole files or none, and directories synced."""

import os

import fixtures

from computeagent import durable
from tests import base


class TestWriteFile(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.tmp, 'state')
        os.mkdir(self.dir)
        self.path = os.path.join(self.dir, 'record.json')

    def test_replaces_the_file_and_leaves_no_temporary_file(self):
        durable.write_file(self.path, 'old', '.tmp-')
        durable.write_file(self.path, 'new', '.tmp-')
        with open(self.path) as f:
            self.assertEqual('new', f.read())
        self.assertEqual(['record.json'], os.listdir(self.dir))

    def test_a_failed_rename_keeps_the_old_file(self):
        durable.write_file(self.path, 'old', '.tmp-')
        self.useFixture(fixtures.MockPatch(
            'os.replace', side_effect=OSError(5, 'Input/output error')))
        self.assertRaises(OSError, durable.write_file, self.path, 'new',
                          '.tmp-')
        with open(self.path) as f:
            self.assertEqual('old', f.read())
        self.assertEqual(['record.json'], os.listdir(self.dir))

    def test_fsync_dir_refuses_a_file(self):
        durable.write_file(self.path, 'text', '.tmp-')
        self.assertRaises(NotADirectoryError, durable.fsync_dir, self.path)
