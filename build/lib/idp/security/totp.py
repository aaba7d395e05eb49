"""Time-based one-time passwords (RFC 6238) with replay refusal; the only module using pyotp."""

from __future__ import annotations

import io
import time

import pyotp
import qrcode
import qrcode.image.svg

ISSUER_NAME = "统一身份认证平台"


def new_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER_NAME)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG (no JavaScript, no image request)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def matching_step(secret: str, code: str, after_step: int, now: float | None = None) -> int | None:
    """The time step the code belongs to (±1 step of drift), if it is later than `after_step`:
    a code already used (or an older one) is refused."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    for step in (current - 1, current, current + 1):
        if step > after_step and totp.verify(code, for_time=step * totp.interval):
            return step
    return None
