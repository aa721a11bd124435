"""A small HyperLogLog sketch: distinct counts that add up across buckets.

Unique authors per 5-minute bucket cannot be summed into hours and days; sketches can be
merged. A sketch is bytes in one of two forms:

- **sparse**, exact: `b"S"` and the sorted 64-bit hashes of up to `SPARSE_LIMIT` ids, so the
  small buckets that most of a brand's series are made of count exactly;
- **dense**: 256 one-byte HyperLogLog registers (about 6.5 % standard error, and linear
  counting for small counts); merging is a register-wise maximum.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable

PRECISION = 8
REGISTERS = 1 << PRECISION
SPARSE_LIMIT = 30
_SPARSE = b"S"
_MASK64 = (1 << 64) - 1
_REST_BITS = 64 - PRECISION
_REST_MASK = (1 << _REST_BITS) - 1
_ALPHA = 0.7213 / (1 + 1.079 / REGISTERS)


def _mix(value: int) -> int:
    """splitmix64: spreads consecutive ids over the whole 64-bit range."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _dense(hashes: Iterable[int], registers: bytearray | None = None) -> bytearray:
    registers = registers if registers is not None else bytearray(REGISTERS)
    for h in hashes:
        index = h >> _REST_BITS
        rank = _REST_BITS - (h & _REST_MASK).bit_length() + 1
        if rank > registers[index]:
            registers[index] = rank
    return registers


def _pack(hashes: set[int]) -> bytes:
    if len(hashes) <= SPARSE_LIMIT:
        ordered = sorted(hashes)
        return _SPARSE + struct.pack(f"<{len(ordered)}Q", *ordered)
    return bytes(_dense(hashes))


def _hashes(sketch: bytes) -> set[int]:
    count = (len(sketch) - 1) // 8
    return set(struct.unpack_from(f"<{count}Q", sketch, 1))


def _is_sparse(sketch: bytes) -> bool:
    return len(sketch) != REGISTERS and sketch[:1] == _SPARSE


def sketch(ids: Iterable[int]) -> bytes:
    """A sketch of the given integer ids."""
    return _pack({_mix(value) for value in ids})


def merge(first: bytes | None, second: bytes | None) -> bytes | None:
    """The sketch of the union of two sketches (either may be None)."""
    if not first or not second:
        return first or second
    if _is_sparse(first) and _is_sparse(second):
        return _pack(_hashes(first) | _hashes(second))
    if _is_sparse(first):
        first, second = second, first
    if len(first) != REGISTERS:
        raise ValueError(f"not a sketch: {len(first)} bytes")
    registers = bytearray(first)
    if _is_sparse(second):
        return bytes(_dense(_hashes(second), registers))
    if len(second) != REGISTERS:
        raise ValueError(f"not a sketch: {len(second)} bytes")
    return bytes(map(max, registers, second))


def count(sketch: bytes | None) -> int:
    """The number of distinct ids in a sketch (exact while sparse, estimated once dense)."""
    if not sketch:
        return 0
    if _is_sparse(sketch):
        return (len(sketch) - 1) // 8
    zeros = sketch.count(0)
    if zeros == REGISTERS:
        return 0
    estimate = _ALPHA * REGISTERS * REGISTERS / sum(2.0**-rank for rank in sketch)
    if estimate <= 2.5 * REGISTERS and zeros:
        estimate = REGISTERS * math.log(REGISTERS / zeros)
    return round(estimate)
