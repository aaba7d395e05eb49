"""Check-character algorithms used by the documents: ISO 7064, GB 32100, GB 11714, ICAO 9303."""

from __future__ import annotations

import unicodedata

# GB 11643-1999 / ISO 7064 MOD 11-2: weight of position i (from the left) is 2^(17-i) mod 11.
_MOD11_2_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_MOD11_2_CHECK = "10X98765432"  # indexed by the weighted sum mod 11

# GB 32100-2015: 31 characters (no I, O, S, V, Z), weights 3^(i-1) mod 31.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11714-1997 organisation codes: digits and letters worth 10 (A) to 35 (Z).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_ICAO_WEIGHTS = (7, 3, 1)


def clean(number: str) -> str:
    """The number as typed, without spaces (full-width too) and in upper case. NFKC folds
    full-width digits, letters and brackets typed with a Chinese input method to ASCII."""
    folded = unicodedata.normalize("NFKC", number)
    return "".join(folded.split()).upper()


def mod11_2(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a 17-digit body (GB 11643-1999 §8)."""
    total = sum(int(d) * w for d, w in zip(body, _MOD11_2_WEIGHTS, strict=True))
    return _MOD11_2_CHECK[total % 11]


def credit_code_check(body: str) -> str:
    """The check character of a 17-character credit-code body (GB 32100-2015 §4.2):
    31 - (sum of value x weight mod 31), with 31 written as 0."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w
                for c, w in zip(body, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def org_code_check(body: str) -> str:
    """The check character of an 8-character organisation code body (GB 11714-1997):
    11 - (sum of value x weight mod 11); 10 is written X and 11 is written 0."""
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def icao_check(text: str) -> str:
    """ICAO Doc 9303 part 3 §4.9 check digit: weights 7, 3, 1 repeated, digits at face value,
    A-Z worth 10-35, '<' worth 0; the sum mod 10."""
    total = 0
    for i, c in enumerate(text):
        value = 0 if c == "<" else int(c, 36)
        total += value * _ICAO_WEIGHTS[i % 3]
    return str(total % 10)
