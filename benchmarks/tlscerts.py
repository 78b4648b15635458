"""A throw-away certificate authority for TLS tests and the https row of the fault matrix: a CA and
server certificates (for 127.0.0.1, for another host, and an expired one), written as PEM files.
Needs ``cryptography`` (the ``test`` extra)."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path


def make_pki(folder: Path) -> Path:
    """Write ``ca.pem`` and ``{good,other-host,expired}.{pem,key}`` into ``folder``; returns it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def cert(subject: str, issuer_key, issuer: x509.Name, key, hosts: list[str], days: tuple[int, int], ca: bool = False):
        builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now + datetime.timedelta(days=days[0]))
                   .not_valid_after(now + datetime.timedelta(days=days[1]))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if hosts:
            alt = []
            for host in hosts:
                try:
                    alt.append(x509.IPAddress(ipaddress.ip_address(host)))
                except ValueError:
                    alt.append(x509.DNSName(host))
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("ar-translate test CA", ca_key, name("ar-translate test CA"), ca_key, [], (-1, 30), ca=True)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for label, hosts, days in (("good", ["127.0.0.1", "localhost"], (-1, 30)), ("other-host", ["cloud.example.org"], (-1, 30)),
                               ("expired", ["127.0.0.1", "localhost"], (-30, -1))):
        key = ec.generate_private_key(ec.SECP256R1())
        (folder / f"{label}.pem").write_bytes(cert(hosts[0], ca_key, ca.subject, key, hosts, days)
                                              .public_bytes(serialization.Encoding.PEM))
        (folder / f"{label}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                                serialization.NoEncryption()))
    return folder
