"""A simulator of the national trusted-identity platform (CTID) that speaks the adapter's protocol.

It checks what the platform checks (app id, request signature, timestamp within 300 s, single-use
nonce), answers from a synthetic population (`population.py`) and signs every
answer; see `realname.platform.adapter` for the protocol. Run it with `idp realname simulator`
or `python -m realname.platform.simulator`. Control endpoints, for tests and demonstrations
(no authentication: bind it to localhost only):

    POST /_sim/outage      {"mode": "down|slow|error|off", "seconds": n, "delay": d}
                           down: the connection is closed without an answer; slow: the answer
                           comes after `delay` s (default 30); error: 500 INTERNAL_ERROR.
                           Lasts `seconds` (absent: until "off").
    POST /_sim/rate-limit  {"per_second": n | null}   past n verifications a second: 429 with
                           Retry-After (whole seconds)
    POST /_sim/tamper      {"mode": "forge|unsigned|replay|off"}   a man in the middle: forge
                           turns a signed answer into "match", unsigned drops X-Signature,
                           replay resends the last signed OK answer
    GET  /_sim/transactions   what was asked (ID numbers and names masked), oldest first
    POST /_sim/reset          forget transactions, nonces and faults (the population stays)
    GET  /_sim/portrait?id_number=...   the person's synthetic portrait (image/png)
    GET  /_sim/population     the synthetic people;  POST /_sim/people {"name", "id_number"}
"""

from __future__ import annotations

from realname.platform.simulator.cli import main, serve
from realname.platform.simulator.population import Person
from realname.platform.simulator.service import PlatformSimulator

__all__ = ["Person", "PlatformSimulator", "main", "serve"]
