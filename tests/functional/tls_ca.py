"""A throwaway certificate authority, made with the ``openssl`` command.

For tests of TLS with certificate login (RabbitMQ's EXTERNAL mechanism):
a CA (key and self-signed certificate) in a temp dir of its own, which
issues certificates with their keys for a common name, e.g. a client's
whose CN is its RabbitMQ user name, or a broker's whose subjectAltName
is ``DNS:localhost,IP:127.0.0.1``. Every CA is independent of every
other: a certificate of one is a stranger to another's trust.

The real ``openssl`` does the work (tools/install-packages.sh installs
it), so the files are exactly what an operator's own CA would hand out.
Keys are EC P-256, made in milliseconds; certificates are valid for
:data:`DAYS` days, which outlasts any test run.
"""

import collections
import os
import re
import secrets
import subprocess

import fixtures

#: days a certificate (the CA's too) is valid
DAYS = 2
#: ``openssl req`` arguments for a new key without a passphrase
_NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
            '-nodes']
# One -subj component; '/', '+', '=' and '\' would need openssl's own
# escaping, which test user names never need.
_COMMON_NAME = re.compile(r'^[A-Za-z0-9@._-]{1,64}$')
# The only configuration openssl reads: the system's openssl.cnf (and an
# OPENSSL_CONF of the caller's) could add extensions of its own.
_REQ_CONFIG = """\
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""

#: paths of an issued certificate (PEM) and of its private key (PEM)
Issued = collections.namedtuple('Issued', 'common_name cert key')


def _openssl(*args):
    """Run openssl; its error output in the exception when it fails."""
    result = subprocess.run(['openssl'] + list(args), capture_output=True,
                            text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError('openssl %s failed (%d): %s'
                             % (args[0], result.returncode, result.stderr))
    return result.stdout


class CertificateAuthority(fixtures.Fixture):
    """A CA of its own; ``cert`` is the CA certificate to trust.

    :param name: the CA's common name
    """

    def __init__(self, name='computeagent test CA'):
        super().__init__()
        self.name = name

    def _setUp(self):
        self.dir = self.useFixture(fixtures.TempDir()).path
        self._issued = 0
        self._config = self._write('req.cnf', _REQ_CONFIG)
        self.key = os.path.join(self.dir, 'ca.key')
        self.cert = os.path.join(self.dir, 'ca.pem')
        _openssl('req', '-x509', '-new', '-config', self._config,
                 '-extensions', 'ca_ext', *_NEW_KEY,
                 '-keyout', self.key, '-out', self.cert,
                 '-days', str(DAYS), '-subj', '/CN=' + self.name)

    def _write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def issue(self, common_name, server=False, dns_names=(),
              ip_addresses=()):
        """A new key and a certificate of this CA for it.

        :param common_name: the subject's CN: a client's RabbitMQ user
            name (``ssl_cert_login_from = common_name``)
        :param server: for a TLS server (extended key usage serverAuth);
            else for a TLS client (clientAuth). Erlang's TLS checks the
            usage against the role when the extension is there.
        :param dns_names: subjectAltName DNS names, which a client's
            hostname check compares with the host it connected to
        :param ip_addresses: subjectAltName IP addresses, likewise
        :returns: :class:`Issued`
        """
        if not _COMMON_NAME.match(common_name):
            raise ValueError('common name %r: letters, digits and @._- '
                             'only' % common_name)
        self._issued += 1
        base = os.path.join(self.dir,
                            '%02d-%s' % (self._issued, common_name))
        key, request, cert = base + '.key', base + '.csr', base + '.pem'
        _openssl('req', '-new', '-config', self._config, *_NEW_KEY,
                 '-keyout', key, '-out', request,
                 '-subj', '/CN=' + common_name)
        extensions = [
            'basicConstraints = critical,CA:FALSE',
            'keyUsage = critical,digitalSignature',
            'extendedKeyUsage = %s' % ('serverAuth' if server
                                       else 'clientAuth'),
            'subjectKeyIdentifier = hash',
            'authorityKeyIdentifier = keyid']
        alt_names = (['DNS:' + name for name in dns_names] +
                     ['IP:' + address for address in ip_addresses])
        if alt_names:
            extensions.append('subjectAltName = ' + ','.join(alt_names))
        ext_file = self._write(os.path.basename(base) + '.ext',
                               '\n'.join(extensions) + '\n')
        _openssl('x509', '-req', '-in', request, '-CA', self.cert,
                 '-CAkey', self.key,
                 # Random, as a real CA's: two certificates of one CA
                 # never share a serial number.
                 '-set_serial', '0x%x' % secrets.randbits(63),
                 '-days', str(DAYS), '-extfile', ext_file, '-out', cert)
        return Issued(common_name, cert, key)

    def server_certificate(self, common_name='localhost'):
        """A broker's certificate for clients on this machine.

        Clients check the host they connected to against the
        subjectAltName: ``localhost`` and ``127.0.0.1`` both pass.
        """
        return self.issue(common_name, server=True,
                          dns_names=['localhost'],
                          ip_addresses=['127.0.0.1'])
