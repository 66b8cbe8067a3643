"""The one timestamp parser and the one hour floor (stormwatch.timeutil), as properties."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stormwatch.timeutil import TimestampError, floor_hour, iso, parse_timestamp

# the years any source, item or CSV can carry; fromtimestamp covers them on every platform
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(moments)
def test_iso_text_round_trips_to_the_same_utc_second(moment):
    # Given an instant written as we store it (ISO 8601, Z, second precision)
    aware = moment.replace(tzinfo=UTC, microsecond=0)
    # When it is read back
    parsed = parse_timestamp(iso(aware))
    # Then it is the same instant, aware UTC
    assert parsed == aware and parsed.tzinfo is UTC


@given(moments, offsets)
def test_any_offset_comes_out_as_the_same_instant_in_utc(moment, offset):
    # Given an instant written with an offset (and microseconds), as other APIs send it
    aware = moment.replace(tzinfo=offset)
    # When parsed
    parsed = parse_timestamp(aware.isoformat())
    # Then the instant is kept and the zone is UTC
    assert parsed == aware and parsed.tzinfo is UTC


@given(moments)
@example(datetime(1971, 3, 8, 0, 38, 21))  # 37240701: also a basic ISO date (3724-07-01)
def test_epoch_seconds_as_number_or_text_are_the_same_instant(moment):
    # Given whole epoch seconds
    aware = moment.replace(tzinfo=UTC, microsecond=0)
    seconds = int(aware.timestamp())
    # Then a number and its text both read as that instant
    assert parse_timestamp(seconds) == aware == parse_timestamp(str(seconds))
    assert parse_timestamp(float(seconds)).tzinfo is UTC


@given(moments)
def test_naive_text_is_refused_unless_the_input_says_it_is_utc(moment):
    # Given text without a zone
    text = moment.isoformat()
    # Then an API's timestamp without a zone is refused with the field named
    with pytest.raises(TimestampError, match="created_at without a time zone"):
        parse_timestamp(text, "created_at")
    # And a CSV's (whose convention is UTC) reads as UTC
    assert parse_timestamp(text, naive_is_utc=True) == moment.replace(tzinfo=UTC)


@given(st.text(max_size=40))
def test_junk_text_is_a_timestamp_error_or_an_aware_utc_time(text):
    # Given any text at all (mention data is hostile input)
    try:
        parsed = parse_timestamp(text, "published", naive_is_utc=True)
    except TimestampError as exc:
        # Then it fails with an error naming the field, never another exception
        assert "published" in str(exc)
    else:
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "missing published"),
        ("  ", "missing published"),
        ("yesterday", "published is neither ISO 8601 nor epoch seconds"),
        (True, "published is not a timestamp"),
        ([2026], "published is not a timestamp"),
        (float("nan"), "published is not a finite number"),
        ("inf", "published is not a finite number"),
        (1e20, "published is out of range"),
    ],
)
def test_junk_gets_a_clear_error(value, message):
    with pytest.raises(TimestampError, match=message):
        parse_timestamp(value, "published")


def test_timestamp_error_is_a_value_error_for_callers_that_catch_those():
    assert issubclass(TimestampError, ValueError)


@given(moments, offsets)
def test_floor_hour_is_the_start_of_the_utc_hour_the_instant_falls_in(moment, offset):
    # Given an instant in any zone
    aware = moment.replace(tzinfo=offset)
    # When floored
    hour = floor_hour(aware)
    # Then it is a whole UTC hour, at or before the instant and less than an hour before
    assert hour.tzinfo is UTC and (hour.minute, hour.second, hour.microsecond) == (0, 0, 0)
    assert hour <= aware < hour + timedelta(hours=1)
    assert floor_hour(hour) == hour


def test_floor_hour_takes_naive_times_as_utc():
    assert floor_hour(datetime(2026, 11, 25, 7, 41, 12)) == datetime(2026, 11, 25, 7, tzinfo=UTC)
