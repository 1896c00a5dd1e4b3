"""The console token store: one file per token, claimed once."""

import hashlib
import json
import os
import stat
import threading

import fixtures

from computeagent.console import tokens
from computeagent.objects import console
from tests import base

UUID = '8a2f5c1e-3d4b-4c6a-9e7f-0b1c2d3e4f50'
TARGET = console.ConsoleTarget(kind='unix', path='/run/x/serial0.sock')


class Clock(object):
    def __init__(self):
        self.now = 1000000.0

    def __call__(self):
        return self.now


class TestTokenStore(base.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                'tokens')
        self.clock = Clock()
        self.store = tokens.TokenStore(self.dir, clock=self.clock)

    def test_issue_writes_the_grant_under_the_tokens_hash_only(self):
        token, grant = self.store.issue(UUID, 1, TARGET, 600)
        self.assertGreaterEqual(len(token), 43)
        self.assertEqual(self.clock.now + 600, grant.expires_at)
        names = os.listdir(self.dir)
        self.assertEqual(
            [hashlib.sha256(token.encode()).hexdigest() + '.json'], names)
        path = os.path.join(self.dir, names[0])
        with open(path) as f:
            text = f.read()
        self.assertNotIn(token, text)
        self.assertEqual({'uuid': UUID, 'port': 1,
                          'target': {'kind': 'unix',
                                     'path': '/run/x/serial0.sock',
                                     'host': None, 'port': None},
                          'expires_at': self.clock.now + 600},
                         json.loads(text))
        self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        self.assertEqual(0o700, stat.S_IMODE(os.stat(self.dir).st_mode))

    def test_tokens_differ(self):
        first, _ = self.store.issue(UUID, 0, TARGET, 600)
        second, _ = self.store.issue(UUID, 0, TARGET, 600)
        self.assertNotEqual(first, second)

    def test_a_token_is_claimed_once(self):
        token, grant = self.store.issue(UUID, 0, TARGET, 600)
        self.assertEqual(grant, self.store.peek(token))
        self.assertEqual(grant, self.store.claim(token))
        self.assertEqual([], os.listdir(self.dir))
        for use in (self.store.peek, self.store.claim):
            error = self.assertRaises(tokens.TokenRefused, use, token)
            self.assertEqual('the token is unknown, or was used already',
                             error.reason)

    def test_another_store_on_the_directory_sees_the_claim(self):
        # The agent and the proxy are two processes sharing the directory.
        token, grant = self.store.issue(UUID, 0, TARGET, 600)
        proxy = tokens.TokenStore(self.dir, clock=self.clock)
        self.assertEqual(grant, proxy.claim(token))
        self.assertRaises(tokens.TokenRefused, self.store.claim, token)

    def test_concurrent_claims_one_wins(self):
        token, _ = self.store.issue(UUID, 0, TARGET, 600)
        results = []
        start = threading.Barrier(8)

        def claim():
            start.wait()
            try:
                results.append(self.store.claim(token))
            except tokens.TokenRefused:
                results.append(None)

        threads = [threading.Thread(target=claim) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(1, len([r for r in results if r is not None]))

    def test_wrong_and_malformed_tokens(self):
        self.store.issue(UUID, 0, TARGET, 600)
        for token in ('nope', 'x' * 300, '', None, 42):
            self.assertRaises(tokens.TokenRefused, self.store.claim, token)
        self.assertEqual(1, len(os.listdir(self.dir)))

    def test_expired_token_is_refused_and_removed(self):
        token, _ = self.store.issue(UUID, 0, TARGET, 5)
        self.clock.now += 5
        error = self.assertRaises(tokens.TokenRefused, self.store.peek,
                                  token)
        self.assertEqual('the token has expired', error.reason)
        self.assertEqual([], os.listdir(self.dir))

    def test_claim_of_an_expired_token_uses_it_up(self):
        token, _ = self.store.issue(UUID, 0, TARGET, 5)
        self.clock.now += 6
        error = self.assertRaises(tokens.TokenRefused, self.store.claim,
                                  token)
        self.assertEqual('the token has expired', error.reason)
        self.assertEqual([], os.listdir(self.dir))

    def test_sweep_removes_expired_tokens_and_dead_writers_files(self):
        old, _ = self.store.issue(UUID, 0, TARGET, 5)
        young, _ = self.store.issue(UUID, 1, TARGET, 600)
        stale = os.path.join(self.dir, '.tmp-abc')
        fresh = os.path.join(self.dir, '.tmp-def')
        for path in (stale, fresh):
            with open(path, 'w') as f:
                f.write('{')
        os.utime(stale, (0, 0))
        self.clock.now += 10
        self.assertEqual(2, self.store.sweep())
        self.assertEqual(['.tmp-def'], [n for n in os.listdir(self.dir)
                                        if n.startswith('.tmp-')])
        self.assertRaises(tokens.TokenRefused, self.store.peek, old)
        self.store.peek(young)

    def test_issue_sweeps(self):
        self.store.issue(UUID, 0, TARGET, 5)
        self.clock.now += 10
        self.store.issue(UUID, 0, TARGET, 5)
        self.assertEqual(1, len(os.listdir(self.dir)))

    def test_sweep_of_a_missing_directory(self):
        self.assertEqual(0, self.store.sweep())


class TestTokenDir(base.TestCase):

    def test_default_is_under_the_instances_path(self):
        self.assertEqual(
            os.path.join(os.path.abspath(self.conf.instances_path),
                         '.console-tokens'), tokens.token_dir(self.conf))

    def test_shared_instances_path_has_one_per_host(self):
        self.flags(instances_path_shared=True, host='node-7')
        self.assertEqual(
            os.path.join(os.path.abspath(self.conf.instances_path),
                         '.console-tokens.node-7'),
            tokens.token_dir(self.conf))

    def test_configured(self):
        self.flags(token_dir='/srv/tokens', group='console')
        self.assertEqual('/srv/tokens', tokens.token_dir(self.conf))
