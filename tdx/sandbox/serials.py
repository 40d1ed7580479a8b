"""Serial numbers in the shapes real fleets have: Apple's 12 characters, Dell's 7-character
service tags, Lenovo, HP, and hyphenated monitor serials (hostile to identifier regexes)."""

from __future__ import annotations

import random

_APPLE_CHARS = "0123456789CDFGHJKLMNPQRTVWXY"
_TAG_CHARS = "0123456789BCDFGHJKLMNPQRSTVWXYZ"
_ALNUM = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _chars(rng: random.Random, alphabet: str, count: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def make_serial(rng: random.Random, style: str) -> str:
    """One serial of the given style ("apple", "dell", "lenovo", "hp", "dell-monitor",
    "hp-printer", anything else: a network device)."""
    if style == "apple":
        prefix = rng.choice(("C02", "C07", "C1M", "FVF", "DMP", "F5K", "G8W", "H4T"))
        return prefix + _chars(rng, _APPLE_CHARS, 9)
    if style == "dell":
        return _chars(rng, _TAG_CHARS, 7)
    if style == "lenovo":
        return rng.choice(("PF", "PC", "R9")) + _chars(rng, _ALNUM, 6)
    if style == "hp":
        return (
            rng.choice(("5CG", "MXL", "2UA"))
            + f"{rng.randrange(10000):04d}"
            + _chars(rng, _ALNUM, 3)
        )
    if style == "dell-monitor":
        return (
            f"CN-0{rng.randrange(10000):04d}-{rng.randrange(100000):05d}-"
            f"{rng.randrange(1000):03d}-{_chars(rng, _ALNUM, 4)}"
        )
    if style == "hp-printer":
        return "VNB" + _chars(rng, _ALNUM, 7)
    return "FOC" + _chars(rng, _ALNUM, 8)
