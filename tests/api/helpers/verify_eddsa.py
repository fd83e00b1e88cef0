"""Verifies EdDSA session tokens as an independent party would: with PyJWT and
`cryptography`, against the JWKS the function serves, and re-derives each public key
from the session key as docs/contract.md §9 documents it (HKDF-SHA256, empty salt, the info
string, 32 bytes → Ed25519 seed).

Reads one JSON object on stdin:
  {"jwks": {...}, "tokens": ["..."], "secrets": {"<kid>": "<secret>"}, "info": "...",
   "audience": "liveness", "issuer": "biometric-validations"}
Prints one line per token, "OK <kid> <sub>", and exits non-zero on any failure.
"""

import base64
import json
import sys

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def derived_x(secret: str, info: str) -> str:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(secret.encode())
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def main() -> None:
    req = json.load(sys.stdin)
    keys = {k["kid"]: k for k in req["jwks"]["keys"]}
    for kid, secret in req["secrets"].items():
        want = derived_x(secret, req["info"])
        got = keys[kid]["x"]
        if got != want:
            sys.exit(f"kid {kid}: served x {got} is not the documented derivation {want}")
    for token in req["tokens"]:
        kid = jwt.get_unverified_header(token)["kid"]
        key = jwt.PyJWK(keys[kid])
        claims = jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],
            audience=req["audience"],
            issuer=req["issuer"],
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        print(f"OK {kid} {claims['sub']}")


if __name__ == "__main__":
    main()
