"""Throwaway CAs and their certificates, made in-process for unit tests.

Unit tests start no processes, so not ``openssl`` as
tests/functional/tls_ca.py does: ``cryptography`` (a requirement of the
agent) makes EC P-256 keys and certificates in milliseconds.
"""

import datetime
import ipaddress
import os

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509 import oid


def _name(common_name):
    return x509.Name([x509.NameAttribute(oid.NameOID.COMMON_NAME,
                                         common_name)])


class CA(object):
    """A CA whose certificates and keys are PEM files in ``directory``."""

    def __init__(self, directory, name='unit test CA', days=1):
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.name = _name(name)
        self.certificate = self._builder(self.name, self.key.public_key(),
                                         now, now + datetime.timedelta(
                                             days=days)).add_extension(
            x509.BasicConstraints(ca=True, path_length=None),
            critical=True).sign(self.key, hashes.SHA256())
        self.cert = self._write(name.replace(' ', '-') + '.pem',
                                self.certificate)

    def _builder(self, subject, public_key, start, end):
        return (x509.CertificateBuilder().subject_name(subject)
                .issuer_name(self.name).public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end))

    def _write(self, name, certificate, key=None):
        path = os.path.join(self.directory, name)
        with open(path, 'wb') as f:
            f.write(certificate.public_bytes(serialization.Encoding.PEM))
        if key is not None:
            with open(path + '.key', 'wb') as f:
                f.write(key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption()))
        return path

    def issue(self, common_name, hosts=(), expired=False):
        """:returns: (certificate path, key path)"""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        start = now - datetime.timedelta(days=3 if expired else 0,
                                         minutes=1)
        end = now - datetime.timedelta(days=1) if expired else (
            now + datetime.timedelta(days=1))
        builder = self._builder(_name(common_name), key.public_key(),
                                start, end)
        if hosts:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(h)) if h[0].isdigit()
                 else x509.DNSName(h) for h in hosts]), critical=False)
        path = self._write('%s-%s.pem' % (common_name,
                                          x509.random_serial_number()),
                           builder.sign(self.key, hashes.SHA256()), key)
        return path, path + '.key'
