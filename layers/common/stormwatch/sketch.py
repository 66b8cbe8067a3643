"""Bounded summaries of "who / what was there": a HyperLogLog for distinct counts, a Bloom
filter for "heard before?".

Why hand-written: the maintained Python HyperLogLogs all pull numpy (`datasketch`,
`datasketches`, `hyperloglog`, `python-hll`; handler import CPU is a tracked cold-start
target, docs/benchmarks.md) or ship no CPython 3.13 aarch64 wheel (`hll`), and none keeps a
serialised form small enough for an hourly bucket to stay one DynamoDB write unit (about 1 KB
with its counts) in a storm hour. The keys counted are hashes already (author keys) or short
strings (story keys), so each sketch is a few dozen lines over `hashlib.blake2b`.

`DistinctSketch` (HyperLogLog, Flajolet et al. 2007, estimated with Ertl's improved estimator,
arXiv:1702.01284, which needs no bias tables):

- sparse while small: the sorted 32-bit hashes of the keys, 4 bytes each, so a quiet hour's
  count is exact (two keys share a hash with odds about n²/2³³) and its item small;
- dense once the sparse form would be larger than the registers: 2^precision registers of 6
  bits, a fixed size whatever the count (precision 8: 192 bytes, standard error 1.04/16 ≈ 6.5 %;
  measured in docs/benchmarks.md, "Data path").

Serialised (`to_bytes`, stable: tests/unit/test_sketch.py pins the bytes): one byte
`form << 4 | precision` (form 1 sparse, 2 dense), then the big-endian 4-byte hashes in order
(sparse) or the registers packed 6 bits each, most significant bit first (dense). Merging
(`merged`) is a union: commutative, idempotent, and the sketch of A ∪ B is the merge of A's
and B's, byte for byte, whichever form each is in.

`KnownKeys` (Bloom filter, Bloom 1970; its probes are independent slices of one blake2b
digest) sized for the keys it is made from at BLOOM_FALSE_POSITIVE (1 in 10,000) per filter: a
key never added is reported present with about that probability; a key added always is.
Serialised: one byte of probe count, then the bit array (little-endian bit order).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass

SPARSE, DENSE = 1, 2
REGISTER_BITS = 6
MIN_PRECISION, MAX_PRECISION = 4, 12
PREFIX_BYTES = 4
HASH_BITS = 8 * PREFIX_BYTES  # a 32-bit hash: ample for hourly counts (Ertl's estimator
# handles the registers that reach its top value)

BLOOM_FALSE_POSITIVE = 1e-4
# a Bloom filter item stays well under DynamoDB's 400 KB: past this many bits the filter
# stops growing and its false-positive rate rises (about 120,000 keys at 1e-4)
MAX_BLOOM_BITS = 8 * 280_000
MAX_PROBES = 16  # 4 bytes of a 64-byte blake2b digest each


def key_hash(key: str) -> int:
    """A key's 32-bit hash (the HyperLogLog's hash), the same in every process (unlike
    `hash()`)."""
    digest = hashlib.blake2b(key.encode(), digest_size=PREFIX_BYTES).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True, slots=True)
class DistinctSketch:
    """An immutable HyperLogLog: the keys' `hashes` while sparse, `registers` (a byte each)
    once dense."""

    precision: int
    hashes: frozenset[int] = frozenset()
    registers: bytes = b""

    @property
    def dense(self) -> bool:
        return bool(self.registers)

    @property
    def _sparse_limit(self) -> int:
        """Most hashes kept sparse: no more bytes than the packed registers."""
        return (1 << self.precision) * REGISTER_BITS // 8 // PREFIX_BYTES

    def with_keys(self, keys: Iterable[str]) -> DistinctSketch:
        hashes = frozenset(key_hash(k) for k in keys)
        return self.merged(DistinctSketch(self.precision, hashes=hashes))

    def merged(self, other: DistinctSketch) -> DistinctSketch:
        """The sketch of both sets' union."""
        if other.precision != self.precision:
            raise ValueError(f"precision {self.precision} and {other.precision} do not merge")
        if not (self.dense or other.dense):
            union = self.hashes | other.hashes
            if len(union) <= self._sparse_limit:
                return DistinctSketch(self.precision, hashes=union)
        mine, theirs = self._dense_registers(), other._dense_registers()
        return DistinctSketch(self.precision, registers=bytes(map(max, mine, theirs)))

    def _dense_registers(self) -> bytes:
        if self.dense:
            return self.registers
        registers = bytearray(1 << self.precision)
        width = HASH_BITS - self.precision  # the hash bits after the register index
        for key in self.hashes:
            index, rest = key >> width, key & ((1 << width) - 1)
            rank = width - rest.bit_length() + 1
            registers[index] = max(registers[index], rank)
        return bytes(registers)

    def estimate(self) -> int:
        """Distinct keys added: exact while sparse, else Ertl's improved estimator."""
        if not self.dense:
            return len(self.hashes)
        m, q = len(self.registers), HASH_BITS - self.precision
        histogram = [0] * (q + 2)
        for value in self.registers:
            histogram[value] += 1
        z = m * _tau(1 - histogram[q + 1] / m)
        for k in range(q, 0, -1):
            z = 0.5 * (z + histogram[k])
        z += m * _sigma(histogram[0] / m)
        return round(m * m / (2 * math.log(2)) / z)

    def to_bytes(self) -> bytes:
        if not self.dense:
            body = b"".join(p.to_bytes(PREFIX_BYTES, "big") for p in sorted(self.hashes))
            return bytes([SPARSE << 4 | self.precision]) + body
        packed = 0
        for value in self.registers:
            packed = packed << REGISTER_BITS | value
        size = len(self.registers) * REGISTER_BITS // 8
        return bytes([DENSE << 4 | self.precision]) + packed.to_bytes(size, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> DistinctSketch:
        if not data:
            raise ValueError("an empty sketch has no header")
        form, precision = data[0] >> 4, data[0] & 0x0F
        body = data[1:]
        if not MIN_PRECISION <= precision <= MAX_PRECISION:
            raise ValueError(f"not a sketch: precision {precision}")
        if form == SPARSE and len(body) % PREFIX_BYTES == 0:
            hashes = frozenset(
                int.from_bytes(body[i : i + PREFIX_BYTES], "big")
                for i in range(0, len(body), PREFIX_BYTES)
            )
            return cls(precision, hashes=hashes)
        m = 1 << precision
        if form == DENSE and len(body) == m * REGISTER_BITS // 8:
            packed, mask = int.from_bytes(body, "big"), (1 << REGISTER_BITS) - 1
            shifts = range((m - 1) * REGISTER_BITS, -1, -REGISTER_BITS)
            registers = bytes((packed >> s) & mask for s in shifts)
            if max(registers) <= HASH_BITS - precision + 1:
                return cls(precision, registers=registers)
        raise ValueError(f"not a sketch: form {form}, precision {precision}, {len(body)} bytes")


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        before = z
        z += x * y
        y += y
        if z == before:
            return z


def _tau(x: float) -> float:
    if x in (0.0, 1.0):
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        before = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if z == before:
            return z / 3


@dataclass(frozen=True, slots=True)
class KnownKeys:
    """An immutable Bloom filter: `key in filter` is True for every key it was made from, and
    for another key with probability about BLOOM_FALSE_POSITIVE."""

    probes: int
    bits: bytes

    @classmethod
    def of(cls, keys: Iterable[str]) -> KnownKeys:
        distinct = set(keys)
        per_key = -math.log(BLOOM_FALSE_POSITIVE) / math.log(2) ** 2
        size = min(max(64, math.ceil(len(distinct) * per_key)), MAX_BLOOM_BITS)
        size = -(-size // 8) * 8
        probes = max(1, round(size / max(len(distinct), 1) * math.log(2)))
        probes = min(probes, round(-math.log2(BLOOM_FALSE_POSITIVE)), MAX_PROBES)
        bits = 0
        for key in distinct:
            for position in _positions(key, probes, size):
                bits |= 1 << position
        return cls(probes=probes, bits=bits.to_bytes(size // 8, "little"))

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        size = 8 * len(self.bits)
        return all(self.bits[p >> 3] >> (p & 7) & 1 for p in _positions(key, self.probes, size))

    def to_bytes(self) -> bytes:
        return bytes([self.probes]) + self.bits

    @classmethod
    def from_bytes(cls, data: bytes) -> KnownKeys:
        if len(data) < 2 or not 0 < data[0] <= MAX_PROBES:
            raise ValueError("not a Bloom filter: no hash count or no bits")
        return cls(probes=data[0], bits=bytes(data[1:]))


def _positions(key: str, probes: int, size: int) -> list[int]:
    """`probes` independent bit positions of a key: 4 bytes each of one blake2b digest (double
    hashing would repeat position sets in a small filter, and few-key filters are common)."""
    digest = hashlib.blake2b(key.encode(), digest_size=4 * probes).digest()
    return [int.from_bytes(digest[i : i + 4], "big") % size for i in range(0, len(digest), 4)]
