"""Picture codes (图形验证码) asked before an SMS is sent: digits shown in an image or read aloud.

A challenge is a random, unguessable id whose answer waits in the ephemeral store for a few
minutes. Checking an answer uses the challenge up, right or wrong (GETDEL), so one solved
picture buys at most one SMS. The `captcha` library (lepture/captcha, ADR 0007) draws the
picture and speaks the digits; it is imported here and nowhere else (ADR 0013).
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from idp.store import Store

if TYPE_CHECKING:
    from captcha.audio import AudioCaptcha
    from captcha.image import ImageCaptcha

HOUR = 3600
DIGITS = 4  # digits only, so that the recording can say them; 4 keeps the recording short
ID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16)


@dataclass(frozen=True)
class CaptchaLimits:
    ttl: int = 300  # seconds a challenge may be answered
    ip_hourly: int = 300  # challenges issued to one address per hour (a hall shares one)
    image_renders: int = 5  # pictures drawn of one challenge (each with new noise)
    audio_renders: int = 3  # recordings made of one challenge
    audio_ip_hourly: int = 60  # recordings made for one address per hour (~0.4 s CPU each)


class Captchas:
    """Issues challenges, draws and speaks them, and checks answers once."""

    def __init__(self, store: Store, limits: CaptchaLimits | None = None) -> None:
        self.store = store
        self.limits = limits or CaptchaLimits()
        self._lock = threading.Lock()
        self._image: ImageCaptcha | None = None
        self._audio: AudioCaptcha | None = None

    @staticmethod
    def _key(challenge: str) -> str:
        return f"captcha:{challenge}"

    def issue(self, ip: str | None) -> str | None:
        """A new challenge id, or None when this address asked for too many this hour."""
        if ip and self.store.incr(f"captcha-ip:{ip}", HOUR) > self.limits.ip_hourly:
            return None
        challenge = secrets.token_urlsafe(16)
        answer = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
        self.store.set(self._key(challenge), answer, self.limits.ttl)
        return challenge

    def check(self, challenge: str | None, answer: str | None) -> bool:
        """True once for the right answer; the challenge is used up by any answer."""
        if not challenge or not ID_RE.match(challenge):
            return False
        expected = self.store.getdel(self._key(challenge))
        if expected is None or not answer:
            return False
        given = "".join(unicodedata.normalize("NFKC", answer[:64]).split()).lower()
        return hmac.compare_digest(given.encode(), expected.encode())

    def _answer(self, challenge: str, kind: str, renders: int) -> str | None:
        """The answer of a live challenge for drawing it, within its number of renders."""
        if not ID_RE.match(challenge):
            return None
        answer = self.store.get(self._key(challenge))
        if answer is None:
            return None
        if self.store.incr(f"captcha-{kind}:{challenge}", self.limits.ttl) > renders:
            return None  # more copies of one answer only help a machine read it
        return answer

    def image(self, challenge: str) -> bytes | None:
        """The challenge as a PNG picture, or None if it is unknown, used or drawn too often."""
        answer = self._answer(challenge, "image", self.limits.image_renders)
        if answer is None:
            return None
        return self._image_maker().generate(answer, format="png").getvalue()

    def audio(self, challenge: str, ip: str | None) -> bytes | None:
        """The challenge's digits read aloud as a WAV recording, or None (as for `image`, or
        when this address asked for too many recordings this hour)."""
        if ip and self.store.incr(f"captcha-audio-ip:{ip}", HOUR) > \
                self.limits.audio_ip_hourly:
            return None
        answer = self._answer(challenge, "audio", self.limits.audio_renders)
        if answer is None:
            return None
        return bytes(self._audio_maker().generate(answer))

    def _image_maker(self) -> ImageCaptcha:
        with self._lock:
            if self._image is None:
                from captcha.image import ImageCaptcha

                self._image = ImageCaptcha(width=160, height=60)
            return self._image

    def _audio_maker(self) -> AudioCaptcha:
        with self._lock:
            if self._audio is None:
                from captcha.audio import AudioCaptcha

                audio = AudioCaptcha()  # the digit voices the wheel ships (English)
                audio.load()
                self._audio = audio
            return self._audio
