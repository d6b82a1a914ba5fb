"""Signing delivered bodies and spacing out retries (pure)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

SIGNATURE_HEADER = "X-Signature"


def sign(body: bytes, secret: str) -> str:
    """The `X-Signature` value: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, secret: str, signature: str) -> bool:
    """Whether `signature` is the value `sign` gives (constant-time comparison)."""
    return hmac.compare_digest(sign(body, secret), signature)


def retry_delay(attempts: int, *, base: timedelta, cap: timedelta, jitter: float) -> timedelta:
    """The wait after the `attempts`-th failed attempt: exponential, capped, with jitter.

    `jitter` is a number in [0, 1) (random in production, fixed in tests); the delay is drawn
    from the upper half of the exponential step ("equal jitter"), so retries of many failed
    deliveries spread out but none comes back sooner than half its step.
    """
    if attempts < 1:
        raise ValueError("attempts counts from 1")
    if not 0 <= jitter < 1:
        raise ValueError("jitter is in [0, 1)")
    step = min(cap.total_seconds(), base.total_seconds() * 2 ** min(attempts - 1, 40))
    return timedelta(seconds=step / 2 + step / 2 * jitter)
