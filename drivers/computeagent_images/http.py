"""Images downloaded over HTTP(S), each checked against a sha256 checksum.

A reference is ``<name>@sha256:<hex>``: ``name`` is a relative path
under ``[image] http_base_url`` and ``hex`` the 64 hexadecimal digits of
the image's sha256, for example::

    cirros-0.6.2-x86_64-disk.qcow2@sha256:7d6355852aeb6dbcd191bcda7cd74f1536cfe5cbf8a10495a7283a8396e4b75b

fetches ``<http_base_url>/cirros-0.6.2-x86_64-disk.qcow2``. The checksum
is required: it is what makes a download trustworthy, and it is the
image's identity, so the cache is content-addressed (two names for the
same bytes share one cached base, and a changed file on the server is a
different reference). A download whose sha256 differs is ImageUnsafe, as
is one larger than ``[image] max_image_size_mb`` (refused from the
Content-Length when the server sends one, else as soon as the limit is
passed). ``[image] http_timeout`` bounds each wait on the server (connect
and every read), not the whole download. Redirects are followed to http
and https URLs only. The usual ``http_proxy``/``no_proxy`` environment
variables apply.
"""

import hashlib
import http.client
import re
import urllib.error
import urllib.parse
import urllib.request

from oslo_log import log as logging
from oslo_utils import units

from computeagent import exception
from computeagent.images import source

LOG = logging.getLogger(__name__)

_REF_RE = re.compile(r'^(?P<name>[^@]+)@sha256:(?P<sha256>[0-9a-fA-F]{64})$')
_CHUNK = units.Mi
_ZEROS = bytes(_CHUNK)


def parse_ref(ref):
    """Split ``name@sha256:<hex>``.

    :returns: (name, lower-case hex digest)
    :raises: ImageNotFound for a malformed reference
    """
    match = _REF_RE.match(ref) if isinstance(ref, str) else None
    if match is None:
        raise exception.ImageNotFound(
            image=ref, reason='an http image reference is '
                              '"<name>@sha256:<64 hex digits>"')
    name = match.group('name')
    parts = name.split('/')
    if (name.startswith('/') or any(p in ('', '.', '..') for p in parts)
            or any(ord(c) < 32 or c in '\\?#' for c in name)):
        raise exception.ImageNotFound(
            image=ref, reason='the name must be a plain relative path')
    return name, match.group('sha256').lower()


class _SafeRedirectHandler(urllib.request.HTTPRedirectHandler):
    # urllib also follows redirects to ftp://; an image comes over HTTP.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        scheme = urllib.parse.urlsplit(newurl).scheme.lower()
        if scheme not in ('http', 'https'):
            raise urllib.error.HTTPError(
                newurl, code, 'redirect to a %s URL refused' % scheme,
                headers, fp)
        return super().redirect_request(req, fp, code, msg, headers,
                                        newurl)


class HttpImageSource(source.ImageSource):
    """Image references are ``name@sha256:<hex>`` under a base URL."""

    name = 'http'

    def __init__(self, conf):
        super().__init__(conf)
        if not conf.image.http_base_url:
            # A start-up error (plugins.load reports it), not a per-request
            # one: nothing could ever be fetched.
            raise ValueError('[image] http_base_url must be set for the '
                             'http image source')

    def url(self, ref):
        """The URL ``ref`` is downloaded from.

        :raises: ImageNotFound for a malformed reference
        """
        name, _digest = parse_ref(ref)
        base = self.conf.image.http_base_url.rstrip('/')
        return base + '/' + urllib.parse.quote(name, safe='/')

    def identity(self, ref):
        """``sha256-<hex>``: the checksum the reference carries.

        :raises: ImageNotFound for a malformed reference
        """
        _name, digest = parse_ref(ref)
        return 'sha256-' + digest

    def declared_format(self, ref):
        name, _digest = parse_ref(ref)
        return source.format_from_name(name)

    def fetch(self, ref, dest_path):
        """Download to ``dest_path``, checking size and checksum.

        :raises: ImageNotFound (HTTP error, unreachable server, malformed
            reference), ImageUnsafe (checksum mismatch, too large)
        """
        url = self.url(ref)
        _name, expected = parse_ref(ref)
        opener = urllib.request.build_opener(_SafeRedirectHandler)
        request = urllib.request.Request(
            url, headers={'User-Agent': 'computeagent'})
        LOG.info('Downloading image %(ref)s from %(url)s',
                 {'ref': ref, 'url': url})
        try:
            with opener.open(request,
                             timeout=self.conf.image.http_timeout) as resp:
                digest = self._save(ref, resp, dest_path)
        except urllib.error.HTTPError as error:
            raise exception.ImageNotFound(
                image=ref, reason='HTTP %s %s from %s'
                                  % (error.code, error.reason, url))
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, 'reason', None) or error
            raise exception.ImageNotFound(
                image=ref, reason='cannot download %s: %s' % (url, reason))
        except http.client.HTTPException as error:
            # IncompleteRead and friends are not OSErrors; a broken
            # transfer is a failed fetch all the same.
            raise exception.ImageNotFound(
                image=ref, reason='download of %s failed: %r'
                                  % (url, error))
        if digest != expected:
            raise exception.ImageUnsafe(
                image=ref, reason='sha256 mismatch: expected %s, '
                                  'downloaded %s' % (expected, digest))

    def _save(self, ref, resp, dest_path):
        limit_mb = self.conf.image.max_image_size_mb
        limit = limit_mb * units.Mi
        length = resp.headers.get('Content-Length')
        if length is not None and length.isdigit() and int(length) > limit:
            raise exception.ImageUnsafe(
                image=ref, reason='%s bytes is more than [image] '
                                  'max_image_size_mb (%d MiB)'
                                  % (length, limit_mb))
        sha = hashlib.sha256()
        total = 0
        with open(dest_path, 'xb') as dest:
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise exception.ImageUnsafe(
                        image=ref, reason='more than [image] '
                                          'max_image_size_mb (%d MiB)'
                                          % limit_mb)
                sha.update(chunk)
                if chunk == _ZEROS[:len(chunk)]:
                    dest.seek(len(chunk), 1)  # leave a hole
                else:
                    dest.write(chunk)
            dest.truncate(total)
        # http.client's read(n) returns what came before the connection
        # closed without complaint; a short body is a failed download.
        if length is not None and length.isdigit() and total != int(length):
            raise exception.ImageNotFound(
                image=ref, reason='the download ended after %d of %s bytes'
                                  % (total, length))
        return sha.hexdigest()
