"""The bounded summaries behind an hourly bucket's distinct counts and the digest's "new
voices" (stormwatch.sketch): they read back as written, merge like sets, and count within the
error the docs state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stormwatch.models import uncovered
from stormwatch.sketch import BLOOM_FALSE_POSITIVE, DistinctSketch, KnownKeys

key_sets = st.frozensets(st.text("0123456789abcdef", min_size=10, max_size=10), max_size=120)
precisions = st.sampled_from([6, 7, 8])


@given(precisions, key_sets)
def test_a_sketch_reads_back_as_the_sketch_it_was(precision, keys):
    # Given a sketch of some keys (sparse while few, dense past its sparse limit)
    sketch = DistinctSketch(precision).with_keys(keys)
    # When it is serialised and read back, Then it is the same sketch
    assert DistinctSketch.from_bytes(sketch.to_bytes()) == sketch


@given(precisions, key_sets, key_sets)
def test_merging_sketches_is_the_sketch_of_the_union(precision, a, b):
    # Given sketches of two sets of keys
    empty = DistinctSketch(precision)
    one, two = empty.with_keys(a), empty.with_keys(b)
    # Then merging is commutative, idempotent, and gives the sketch of the union, byte for byte
    assert one.merged(two) == two.merged(one)
    assert one.merged(one) == one
    assert one.merged(two).to_bytes() == empty.with_keys(a | b).to_bytes()
    # And adding keys one batch at a time gives the same as adding them at once
    assert one.with_keys(b) == empty.with_keys(a | b)


@given(precisions, key_sets)
def test_a_sketch_counts_exactly_while_sparse(precision, keys):
    # Given fewer keys than the sparse form holds (48 at precision 8)
    sketch = DistinctSketch(precision).with_keys(keys)
    # Then its estimate is the exact count while it is sparse
    if not sketch.dense:
        assert sketch.estimate() == len(keys)


@pytest.mark.parametrize("n", [100, 1_000, 4_000, 20_000])
def test_the_estimate_stays_within_the_stated_error(n):
    # Given 20 independent sets of n distinct author-like keys, counted at precision 8
    errors = []
    for trial in range(20):
        keys = [f"{trial:03d}{i:07x}" for i in range(n)]
        errors.append(DistinctSketch(8).with_keys(keys).estimate() / n - 1)
    # Then the error is about 1.04/sqrt(256) = 6.5 % and never four times that
    rms = (sum(e * e for e in errors) / len(errors)) ** 0.5
    assert rms < 0.10
    assert max(abs(e) for e in errors) < 0.26


def test_the_serialised_form_is_pinned():
    # Given the same keys on any machine, Then the same bytes (a stored sketch stays readable)
    sparse = DistinctSketch(8).with_keys(["a", "b"])
    assert sparse.to_bytes().hex() == PINNED_SPARSE
    dense = DistinctSketch(6).with_keys([str(i) for i in range(40)])
    assert dense.dense and dense.to_bytes()[:8].hex() == PINNED_DENSE_HEAD


PINNED_SPARSE = "18ca234c55fd9d3f51"
PINNED_DENSE_HEAD = "2610000014000000"


@pytest.mark.parametrize("data", [b"", b"\x18\x00\x01", b"\x28" + b"\x00" * 10, b"\x31abcd"])
def test_bytes_that_are_no_sketch_are_refused(data):
    with pytest.raises(ValueError):
        DistinctSketch.from_bytes(data)


def test_sketches_of_different_precision_do_not_merge():
    with pytest.raises(ValueError):
        DistinctSketch(8).merged(DistinctSketch(7))


@given(key_sets)
def test_a_bloom_filter_knows_every_key_it_was_made_from(keys):
    # Given a filter of some author keys, read back from its bytes
    known = KnownKeys.from_bytes(KnownKeys.of(keys).to_bytes())
    # Then every one of them is known (no false negatives)
    assert all(key in known for key in keys)


@pytest.mark.parametrize("n", [10, 2_000, 20_000])
def test_a_bloom_filter_mistakes_few_strangers_for_known(n):
    # Given a filter of n keys
    known = KnownKeys.of(f"{i:010x}" for i in range(n))
    # When 50,000 keys it was not made from are looked up
    strangers = sum(f"x{i:09x}" in known for i in range(50_000))
    # Then about BLOOM_FALSE_POSITIVE of them (1 in 10,000: 5) are taken for known
    assert strangers <= 3 * 50_000 * BLOOM_FALSE_POSITIVE


def test_a_bloom_filter_without_bits_is_refused():
    with pytest.raises(ValueError):
        KnownKeys.from_bytes(b"\x07")


hour_offsets = st.integers(0, 24 * 40)


@given(st.lists(st.tuples(hour_offsets, st.integers(1, 24 * 3)), max_size=8), hour_offsets)
def test_the_hours_no_summary_covers_are_exactly_the_rest_a_day_at_most_each(ranges, length):
    # Given summarised ranges of hours and a window of `length` hours
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    at = [origin + timedelta(hours=h) for h in range(24 * 45)]
    summaries = [(at[a], at[a] + timedelta(hours=n)) for a, n in ranges]
    start, end = at[24], at[24] + timedelta(hours=length)
    # When the gaps are found
    gaps = uncovered(start, end, summaries)
    # Then every hour of the window is in a summary or in exactly one gap, never both, and no
    # gap is longer than a day
    for hour in (start + timedelta(hours=i) for i in range(length)):
        summarised = any(a <= hour < b for a, b in summaries)
        in_gaps = sum(a <= hour < b for a, b in gaps)
        assert in_gaps == (0 if summarised else 1)
    assert all(start <= a < b <= end and b - a <= timedelta(days=1) for a, b in gaps)
