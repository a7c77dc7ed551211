"""gzip, inflated within a bound and only when whole: chart archives and HTTP bodies.

A gzip stream ends with an end-of-stream block and a CRC and length trailer; a stream that
stops before them was cut (a dropped connection, a short file), even when every byte sent
inflated cleanly. zlib then just returns what it has, so the end is checked here.
"""

from __future__ import annotations

import zlib


class TooLarge(ValueError):
    """The data inflates to more than the bound (a gzip bomb, or an oversized body)."""


class Truncated(ValueError):
    """The stream stops before gzip's end: it was cut short."""


class NotGzip(ValueError):
    """The data is not gzip (zlib's message says where it broke)."""


def gunzip(data: bytes, limit: int) -> bytes:
    """The inflated bytes of ``data`` (one or more concatenated gzip members), at most
    ``limit`` of them: never more than ``limit + 1`` bytes are produced, whatever the ratio."""
    out = bytearray()
    try:
        while data:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip only
            out += inflater.decompress(data, limit + 1 - len(out))
            if len(out) > limit:
                raise TooLarge(f"unpacks to more than {limit} bytes")
            if not inflater.eof:
                raise Truncated("gzip stream cut short")
            data = inflater.unused_data  # concatenated gzip members are valid gzip
    except zlib.error as exc:
        raise NotGzip(str(exc)) from None
    return bytes(out)
