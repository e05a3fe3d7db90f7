"""Seeds for the identity fuzz targets (fuzz_jwt, fuzz_oauthbearer, fuzz_principal_rules); called by
seed_corpus.py. Input layouts are described at the top of each target's source."""
import base64
import datetime
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jwt_seeds(write):
    now = 1_800_000_000
    headers = [
        {"alg": "ES256", "kid": "fuzz-ec", "typ": "JWT"},
        {"alg": "ES256"},
        {"alg": "RS256", "kid": "fuzz-rsa"},
        {"alg": "none"},
        {"alg": "ES256", "kid": "fuzz-ec", "crit": ["b64"], "b64": False},
    ]
    claims = [
        {"sub": "alice", "exp": now + 600, "iss": "https://issuer.example", "aud": "kedge"},
        {"sub": "alice", "exp": now - 600, "nbf": now + 60, "iat": now + 600, "aud": ["other", "kedge"]},
        {"client_id": "svc", "exp": 1e300, "aud": [], "iss": 7},
        {"sub": "", "exp": "soon"},
        {"sub": "a\nb", "exp": now + 1.5},
    ]
    for mode in (1, 3, 7, 15, 33, 39, 47, 63):
        for header in headers:
            for claim in claims:
                write("fuzz_jwt", bytes([mode]) + json.dumps(header).encode() + b"\0" + json.dumps(claim).encode())
    write("fuzz_jwt", bytes([1]) + b'{"alg":"ES256","alg":"none"}\0{"sub":"x","exp":1}')
    for mode in (0, 38):
        for header in headers:
            signing_input = b64url(json.dumps(header).encode()) + b"." + b64url(json.dumps(claims[0]).encode())
            for signature in (b"", b"\x01" * 64, b"\x02" * 256):
                write("fuzz_jwt", bytes([mode]) + signing_input + b"." + b64url(signature))


def oauthbearer_seeds(write):
    token = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"
    for message in (
        b"n,,\x01auth=Bearer " + token + b"\x01\x01",
        b"n,a=alice,\x01auth=Bearer " + token + b"\x01\x01",
        b"n,a=us=2Cer=3D,\x01auth=bearer  " + token + b"\x01logicalCluster=lkc-1\x01identityPoolId=p\x01\x01",
        b"y,,\x01host=example.com\x01port=9092\x01auth=Bearer abc==\x01\x01",
        b"p=tls-unique,,\x01auth=Bearer x\x01\x01",
        b"\x01",
        b"n,,\x01auth=Bearer x\x01auth=Bearer y\x01\x01",
    ):
        write("fuzz_oauthbearer", message)


def principal_seeds(write):
    subjects = [b"CN=Duke,OU=ServiceUsers,O=Org,C=US", b"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US",
                b"cn=duke,ou=sme,dc=mycp,dc=com", b"CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz"]
    rules = [b"DEFAULT", b"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L", b"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
             b"RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U", b"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U",
             b"RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/", b"RULE:CN=(.*?)/$12\\$0/", b"RULE:x*/-/"]
    for rule in rules:
        for subject in subjects:
            write("fuzz_principal_rules", bytes([0]) + rule + b"\n" + subject)
    write("fuzz_principal_rules", bytes([1]) + b",".join(rules))
    write("fuzz_principal_rules", bytes([1]) + b"  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ")

    key = ec.generate_private_key(ec.SECP256R1())
    names = [
        x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Org"),
                   x509.NameAttribute(NameOID.COMMON_NAME, "client-1")]),
        x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "x"),
                                                   x509.NameAttribute(NameOID.USER_ID, "42")]),
                   x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "a@b")])]),
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, " a,b+c=#; "),
                   x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "com")]),
    ]
    now = datetime.datetime(2030, 1, 1)
    for name in names:
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([
                    x509.RFC822Name("ops@example.com"), x509.DNSName("client-1.example.com"),
                    x509.UniformResourceIdentifier("spiffe://example.com/a")]), critical=False)
                .sign(key, hashes.SHA256()))
        write("fuzz_principal_rules", bytes([2]) + cert.public_bytes(serialization.Encoding.DER))


def write_all(write):
    jwt_seeds(write)
    oauthbearer_seeds(write)
    principal_seeds(write)
