"""Just enough DER, RSA and NIST P-256 arithmetic to check, outside Ingot, the keys and signatures KMS
returns: SubjectPublicKeyInfo public keys, PKCS#8 private keys, RSASSA-PKCS1-v1_5 and ECDSA signatures.
Written for the tests (slow, not constant-time); no third-party crypto package is needed."""

import hashlib

RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
PRIME256V1 = "1.2.840.10045.3.1.7"


# DER


def der_read(data, pos=0):
    """The (tag, value, next position) of the element at `pos`."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    return tag, data[pos:pos + length], pos + length


def der_children(value):
    out, pos = [], 0
    while pos < len(value):
        tag, inner, pos = der_read(value, pos)
        out.append((tag, inner))
    return out


def der_sequence(data):
    tag, value, end = der_read(data)
    assert tag == 0x30, f"not a DER SEQUENCE: tag {tag:#x}"
    assert end == len(data), "trailing bytes after the DER SEQUENCE"
    return der_children(value)


def der_oid(value):
    first = value[0]
    parts, n = [first // 40, first % 40], 0
    for byte in value[1:]:
        n = (n << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(n)
            n = 0
    return ".".join(map(str, parts))


def der_int(value):
    return int.from_bytes(value, "big", signed=False)


def algorithm(children):
    """The OIDs of an AlgorithmIdentifier (algorithm, then the parameter if it is an OID)."""
    tag, value = children
    assert tag == 0x30
    return [der_oid(v) for t, v in der_children(value) if t == 0x06]


# SubjectPublicKeyInfo and PKCS#8


def spki(der):
    """(algorithm OIDs, key bytes) of a DER SubjectPublicKeyInfo."""
    alg, bits = der_sequence(der)
    assert bits[0] == 0x03 and bits[1][0] == 0, "the public key is not a whole-byte BIT STRING"
    return algorithm(alg), bits[1][1:]


def pkcs8(der):
    """(algorithm OIDs, private key bytes) of a DER PKCS#8 PrivateKeyInfo (version 0)."""
    children = der_sequence(der)
    assert children[0] == (0x02, b"\x00"), "PrivateKeyInfo version is not 0"
    assert children[2][0] == 0x04, "privateKey is not an OCTET STRING"
    return algorithm(children[1]), children[2][1]


def rsa_public(der):
    oids, key = spki(der)
    assert oids[0] == RSA_ENCRYPTION, oids
    n, e = [der_int(v) for _, v in der_sequence(key)]
    return n, e


def rsa_private(der):
    oids, key = pkcs8(der)
    assert oids[0] == RSA_ENCRYPTION, oids
    version, n, e, d, p, q, *_ = [der_int(v) for _, v in der_sequence(key)]
    assert version == 0
    return {"n": n, "e": e, "d": d, "p": p, "q": q}


def ec_public(der):
    oids, key = spki(der)
    assert oids == [EC_PUBLIC_KEY, PRIME256V1], oids
    assert key[0] == 0x04 and len(key) == 65, "not an uncompressed P-256 point"
    return int.from_bytes(key[1:33], "big"), int.from_bytes(key[33:], "big")


def ec_private(der):
    oids, key = pkcs8(der)
    assert oids == [EC_PUBLIC_KEY, PRIME256V1], oids
    children = der_sequence(key)
    assert children[0] == (0x02, b"\x01") and children[1][0] == 0x04
    return int.from_bytes(children[1][1], "big")


# RSASSA-PKCS1-v1_5 with SHA-256

SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def rsa_pkcs1_sha256_valid(n, e, message, signature, digest=None):
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    encoded = pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big")
    t = SHA256_DIGEST_INFO + (digest or hashlib.sha256(message).digest())
    return encoded == b"\x00\x01" + b"\xff" * (size - len(t) - 3) + b"\x00" + t


# NIST P-256 and ECDSA with SHA-256

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def on_curve(point):
    x, y = point
    return (y * y - (x * x * x + A * x + B)) % P == 0


def _add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    if p1 == p2:
        slope = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (slope * slope - x1 - x2) % P
    return x3, (slope * (x1 - x3) - y1) % P


def ec_multiply(k, point=G):
    result = None
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def ecdsa_p256_sha256_valid(public, message, der_signature, digest=None):
    r, s = [der_int(v) for _, v in der_sequence(der_signature)]
    if not (0 < r < N and 0 < s < N):
        return False
    z = int.from_bytes(digest or hashlib.sha256(message).digest(), "big")
    w = pow(s, -1, N)
    point = _add(ec_multiply(z * w % N), ec_multiply(r * w % N, public))
    return point is not None and point[0] % N == r
