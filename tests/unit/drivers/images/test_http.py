"""HttpImageSource against a real http.server in a thread."""

import hashlib
import http.server
import os
import socket
import threading

import fixtures

from computeagent import exception
from computeagent_images import http as http_source
from tests import base
from tests import images


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files from the served directory, plus a few misbehaving paths."""

    def log_message(self, *args):
        pass  # keep test output clean

    def do_GET(self):
        if self.path == '/redirect-file':
            self.send_response(302)
            self.send_header('Location', 'file:///etc/passwd')
            self.end_headers()
        elif self.path == '/redirect-ok':
            self.send_response(302)
            self.send_header('Location', '/boot.raw')
            self.end_headers()
        elif self.path == '/endless':
            # No Content-Length: only counting can stop it.
            self.send_response(200)
            self.end_headers()
            block = b'\1' * 65536
            try:
                for _ in range(64):
                    self.wfile.write(block)
            except OSError:
                pass  # the client gave up, as it should
        elif self.path == '/short':
            self.send_response(200)
            self.send_header('Content-Length', '1000')
            self.end_headers()
            self.wfile.write(b'only this')
        else:
            super().do_GET()


class HttpTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        for name in ('http_proxy', 'https_proxy', 'HTTP_PROXY',
                     'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.served = os.path.join(self.tmp, 'served')
        os.makedirs(self.served)
        self.server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0),
            lambda *a: _Handler(*a, directory=self.served))
        # A short poll interval: shutdown() waits for the loop to notice.
        thread = threading.Thread(target=self.server.serve_forever,
                                  kwargs={'poll_interval': 0.01})
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        port = self.server.server_address[1]
        self.flags(http_base_url='http://127.0.0.1:%d/' % port,
                   http_timeout=10, group='image')
        self.source = http_source.HttpImageSource(self.conf)
        self.image = images.write_raw_image(
            os.path.join(self.served, 'boot.raw'), b'H', size_mb=2)
        with open(self.image, 'rb') as f:
            self.data = f.read()
        self.digest = hashlib.sha256(self.data).hexdigest()
        self.dest = os.path.join(self.tmp, 'dest')

    def ref(self, name='boot.raw', digest=None):
        return '%s@sha256:%s' % (name, digest or self.digest)


class TestRefs(HttpTestCase):

    def test_parse(self):
        self.assertEqual(
            ('a/b.qcow2', 'ab' * 32),
            http_source.parse_ref('a/b.qcow2@sha256:' + 'AB' * 32))

    def test_malformed(self):
        for ref in ('boot.raw', 'boot.raw@sha256:abc',
                    'boot.raw@md5:' + 'a' * 64, '@sha256:' + 'a' * 64,
                    '/etc/passwd@sha256:' + 'a' * 64,
                    '../x@sha256:' + 'a' * 64, 'a//b@sha256:' + 'a' * 64,
                    'a?b@sha256:' + 'a' * 64, None):
            self.assertRaises(exception.ImageNotFound,
                              http_source.parse_ref, ref)
            self.assertRaises(exception.ImageNotFound,
                              self.source.identity, ref)

    def test_identity_is_the_checksum(self):
        self.assertEqual('sha256-' + self.digest,
                         self.source.identity(self.ref()))
        self.assertEqual(self.source.identity(self.ref()),
                         self.source.identity(self.ref('other.raw')))

    def test_url_quotes_the_name(self):
        url = self.source.url(self.ref('dir/a b.raw'))
        self.assertTrue(url.endswith('/dir/a%20b.raw'), url)

    def test_declared_format(self):
        self.assertEqual('raw', self.source.declared_format(self.ref()))
        self.assertIsNone(self.source.declared_format(self.ref('x.img')))

    def test_base_url_required(self):
        self.flags(http_base_url=None, group='image')
        self.assertRaises(ValueError, http_source.HttpImageSource, self.conf)


class TestFetch(HttpTestCase):

    def test_download(self):
        self.source.fetch(self.ref(), self.dest)
        with open(self.dest, 'rb') as f:
            self.assertEqual(self.data, f.read())

    def test_checksum_mismatch(self):
        error = self.assertRaises(exception.ImageUnsafe, self.source.fetch,
                                  self.ref(digest='0' * 64), self.dest)
        self.assertIn('sha256 mismatch', str(error))

    def test_not_found(self):
        error = self.assertRaises(exception.ImageNotFound,
                                  self.source.fetch, self.ref('nope.raw'),
                                  self.dest)
        self.assertIn('404', str(error))

    def test_too_large_by_content_length(self):
        self.flags(max_image_size_mb=1, group='image')
        error = self.assertRaises(exception.ImageUnsafe, self.source.fetch,
                                  self.ref(), self.dest)
        self.assertIn('max_image_size_mb', str(error))

    def test_too_large_without_content_length(self):
        self.flags(max_image_size_mb=1, group='image')
        error = self.assertRaises(exception.ImageUnsafe, self.source.fetch,
                                  self.ref('endless'), self.dest)
        self.assertIn('max_image_size_mb', str(error))

    def test_truncated_transfer(self):
        self.assertRaises(exception.ImageNotFound, self.source.fetch,
                          self.ref('short'), self.dest)

    def test_redirect_to_file_refused(self):
        error = self.assertRaises(exception.ImageNotFound,
                                  self.source.fetch,
                                  self.ref('redirect-file'), self.dest)
        self.assertIn('file', str(error))

    def test_redirect_to_http_followed(self):
        self.source.fetch(self.ref('redirect-ok'), self.dest)
        with open(self.dest, 'rb') as f:
            self.assertEqual(self.data, f.read())

    def test_unreachable(self):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        sock.close()  # nothing listens there now
        self.flags(http_base_url='http://127.0.0.1:%d' % port,
                   group='image')
        self.assertRaises(exception.ImageNotFound, self.source.fetch,
                          self.ref(), self.dest)

    def test_timeout(self):
        # A server that accepts connections (the kernel's backlog does)
        # but never answers.
        sock = socket.socket()
        self.addCleanup(sock.close)
        sock.bind(('127.0.0.1', 0))
        sock.listen(1)
        self.flags(http_base_url='http://127.0.0.1:%d' %
                   sock.getsockname()[1], http_timeout=1, group='image')
        error = self.assertRaises(exception.ImageNotFound,
                                  self.source.fetch, self.ref(), self.dest)
        self.assertIn('timed out', str(error))
