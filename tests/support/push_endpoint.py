"""A push service on 127.0.0.1, as browsers' push services behave towards a sender.

Each :meth:`PushEndpoint.subscribe` plays a browser subscribing: a P-256 key pair and an
auth secret of its own and an endpoint URL, the three things a Push API subscription
hands the server. A message posted to an endpoint is checked as a push service and a
browser would: the VAPID ``Authorization`` header (RFC 8292: an ES256 JWT for this
origin, not expired, signed by the key it names, which must be the server's public key),
and the body decrypted with the subscription's private key and auth secret (RFC 8291
key derivation, RFC 8188 ``aes128gcm`` records), written out here with ``cryptography``
rather than with the library the server encrypts with. A message that fails a check is
answered 400/401/403 and kept in :attr:`PushEndpoint.rejected`.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint)


class PushRejected(Exception):
    """A posted message a real push service or browser would refuse; ``status`` is the
    answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class Subscription:
    """A browser's subscription: what it posts to the server (:meth:`as_json`), its
    private key and auth secret, what the endpoint answers, and what it received."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    answer: int = 201
    received: queue.Queue = field(default_factory=queue.Queue)

    @property
    def p256dh(self) -> str:
        return b64url(_point(self.private_key.public_key()))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def as_json(self) -> dict[str, Any]:
        """The subscription as ``PushSubscription.toJSON()`` gives it."""
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def next_message(self, timeout: float = 15.0) -> Received:
        """The next message delivered to this subscription (decrypted and checked)."""
        return self.received.get(timeout=timeout)

    def nothing_within(self, seconds: float) -> bool:
        """True when no message arrives within ``seconds``."""
        try:
            self.received.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


@dataclass(frozen=True)
class Received:
    text: str
    claims: dict[str, Any]
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.text)


def decrypt_aes128gcm(body: bytes, private_key: ec.EllipticCurvePrivateKey,
                      auth_secret: bytes) -> str:
    """RFC 8291 / RFC 8188: the plaintext of a Web Push message body."""
    if len(body) < 21:
        raise PushRejected(400, "body shorter than the aes128gcm header")
    salt, record_size, id_length = body[:16], struct.unpack(">I", body[16:20])[0], body[20]
    sender_point = body[21:21 + id_length]
    records = body[21 + id_length:]
    if id_length != 65 or record_size < 18:
        raise PushRejected(400, "the header's key id is not a P-256 public key")
    sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_point)
    shared = private_key.exchange(ec.ECDH(), sender)
    key_info = b"WebPush: info\x00" + _point(private_key.public_key()) + sender_point
    ikm = _hkdf(auth_secret, shared, key_info, 32)
    content_key = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    plain = b""
    chunks = [records[i:i + record_size] for i in range(0, len(records), record_size)]
    for sequence, chunk in enumerate(chunks):
        record_nonce = (int.from_bytes(nonce, "big") ^ sequence).to_bytes(12, "big")
        try:
            padded = AESGCM(content_key).decrypt(record_nonce, chunk, None)
        except InvalidTag:
            raise PushRejected(400, "the body does not decrypt with the subscription's "
                                    "keys") from None
        content = padded.rstrip(b"\x00")
        last = sequence == len(chunks) - 1
        if not content or content[-1:] != (b"\x02" if last else b"\x01"):
            raise PushRejected(400, "bad record padding delimiter")
        plain += content[:-1]
    return plain.decode()


def check_vapid(authorization: str, audience: str, server_key: str | None) -> dict[str, Any]:
    """RFC 8292: ``vapid t=<JWT>, k=<public key>``; returns the JWT's claims."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise PushRejected(401, f"Authorization scheme {scheme!r}, not vapid")
    parts = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = parts.get("t", ""), parts.get("k", "")
    if server_key is not None and key != server_key:
        raise PushRejected(403, "signed with a key other than the server's public key")
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(unb64url(header_b64))
    if header.get("alg") != "ES256":
        raise PushRejected(401, f"JWT algorithm {header.get('alg')!r}, not ES256")
    signature = unb64url(signature_b64)
    if len(signature) != 64:
        raise PushRejected(401, "ES256 signature is not 64 bytes")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    try:
        public.verify(encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                           int.from_bytes(signature[32:], "big")),
                      f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise PushRejected(403, "the JWT's signature does not verify with k") from None
    claims = json.loads(unb64url(claims_b64))
    now = time.time()
    if claims.get("aud") != audience:
        raise PushRejected(403, f"JWT audience {claims.get('aud')!r}, not {audience!r}")
    if not now < claims.get("exp", 0) <= now + 24 * 3600:
        raise PushRejected(403, "JWT expired or valid for more than 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise PushRejected(403, "JWT sub is neither mailto: nor https:")
    return claims


class PushEndpoint:
    """The push service (see the module docstring); use as a context manager.
    ``server_key``: the VAPID public key messages must be signed with (None: any)."""

    def __init__(self, server_key: str | None = None) -> None:
        self.server_key = server_key
        self.rejected: list[str] = []
        self._subscriptions: dict[str, Subscription] = {}
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                endpoint._receive(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> PushEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def subscribe(self, answer: int = 201) -> Subscription:
        """A new browser subscription whose endpoint answers ``answer`` once a message
        passed the checks (201 as a push service does; 410 for one it forgot)."""
        name = b64url(os.urandom(12))
        subscription = Subscription(f"{self.origin}/push/{name}",
                                    ec.generate_private_key(ec.SECP256R1()),
                                    os.urandom(16), answer)
        self._subscriptions[name] = subscription
        return subscription

    def _receive(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        subscription = self._subscriptions.get(request.path.rsplit("/", 1)[-1])
        try:
            if subscription is None:
                raise PushRejected(404, f"no subscription at {request.path}")
            if request.headers.get("Content-Encoding") != "aes128gcm":
                raise PushRejected(400, "Content-Encoding is not aes128gcm")
            if request.headers.get("TTL") is None:
                raise PushRejected(400, "no TTL header")
            claims = check_vapid(request.headers.get("Authorization", ""), self.origin,
                                 self.server_key)
            text = decrypt_aes128gcm(body, subscription.private_key, subscription.auth_secret)
        except PushRejected as rejected:
            self.rejected.append(str(rejected))
            request.send_response(rejected.status)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        status = subscription.answer
        if status < 300:
            subscription.received.put(Received(text, claims, dict(request.headers)))
        request.send_response(status)
        request.send_header("Content-Length", "0")
        request.end_headers()
