"""Every `stormwatch` error is one line per problem naming the file (and line, topic, field
where known), with exit code 2 — never a traceback."""

from __future__ import annotations

import json

import pytest
from stormwatch import cli
from stormwatch.query import MAX_DEPTH, QueryError, parse_query

TOPIC = "  - name: acme\n    terms: [acme]\n    sources:\n      hackernews: {}\n"
BAD_HOUR = "version: 1\ntopics:\n" + TOPIC + "    digest:\n      hour: 25\n"


def run(argv: list[str], capsys) -> tuple[int, list[str]]:
    code = cli.main(argv)
    return code, capsys.readouterr().err.strip().splitlines()


def assert_one_line_error(code: int, err: list[str], *needles: str) -> None:
    assert code == 2
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    for needle in needles:
        assert needle in err[0], err[0]


def test_check_on_a_latin1_file_names_the_file_and_line(tmp_path, capsys):
    # Given a watchlist saved as Latin-1, with an é on line 4
    path = tmp_path / "brand.yaml"
    path.write_bytes(
        ("version: 1\ntopics:\n" + TOPIC.replace("[acme]", "[café]")).encode("latin-1")
    )
    # When it is checked
    code, err = run(["check", str(path)], capsys)
    # Then one line says which file and line are not UTF-8
    assert_one_line_error(code, err, f"{path}:4", "UTF-8")


def test_check_on_a_utf16_file_says_it_must_be_utf8(tmp_path, capsys):
    # Given a watchlist saved as UTF-16 (with its byte-order mark)
    path = tmp_path / "brand.yaml"
    path.write_bytes(("version: 1\ntopics:\n" + TOPIC).encode("utf-16"))
    # When it is checked
    code, err = run(["check", str(path)], capsys)
    # Then one line names the file and the encoding problem
    assert_one_line_error(code, err, str(path), "UTF-8")


@pytest.mark.parametrize(
    ("depth", "says"),
    [(900, "deeper than"), (5000, "at most 2000 characters")],  # longer: the size bound first
)
def test_check_on_a_deeply_nested_query_names_topic_and_field(depth, says, tmp_path, capsys):
    # Given a query nested `depth` parentheses deep on line 4
    query = "(" * depth + "acme" + ")" * depth
    text = "version: 1\ntopics:\n  - name: acme\n    query: '" + query + "'\n"
    text += "    sources: {hackernews: {}}\n"
    path = tmp_path / "brand.yaml"
    path.write_text(text, encoding="utf-8")
    # When it is checked
    code, err = run(["check", str(path)], capsys)
    # Then one short line names the file, line, topic and field
    assert_one_line_error(code, err, f"{path}:4", "'acme'", "'query'", says)
    assert len(err[0]) < 300


def test_check_on_yaml_nested_5000_deep_is_one_line(tmp_path, capsys):
    # Given YAML lists nested 5,000 deep
    path = tmp_path / "brand.yaml"
    path.write_text("topics: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    # When it is checked
    code, err = run(["check", str(path)], capsys)
    # Then one line names the file and says it is nested too deeply
    assert_one_line_error(code, err, str(path), "nest")


def test_check_on_a_missing_file_is_one_line(tmp_path, capsys):
    code, err = run(["check", str(tmp_path / "nope.yaml")], capsys)
    assert_one_line_error(code, err, "nope.yaml", "cannot read")


@pytest.mark.parametrize(
    "argv",
    [
        ["demo"],
        ["run"],
        ["preview", "digest"],
        ["invoke", "report", "events/report_digest.json"],
    ],
)
def test_commands_with_an_invalid_watchlist_print_only_the_problem(argv, tmp_path, capsys, repo):
    # Given a watchlist whose digest hour is out of range on line 8
    path = tmp_path / "brand.yaml"
    path.write_text(BAD_HOUR, encoding="utf-8")
    argv = [str(repo / a) if a.startswith("events/") else a for a in argv]
    # When a command that needs the watchlist runs with it
    code, err = run([*argv, "--watchlist", str(path), "--out", str(tmp_path / "out")], capsys)
    # Then it stops before doing anything, with the one problem line and exit code 2
    assert_one_line_error(code, err, f"{path}:8", "'acme'", "'digest.hour'")


def test_invoke_with_a_missing_event_file_is_one_line(tmp_path, capsys):
    code, err = run(["invoke", "report", str(tmp_path / "nope.json")], capsys)
    assert_one_line_error(code, err, "nope.json")


def test_invoke_with_an_event_file_that_is_not_json_is_one_line(tmp_path, capsys):
    event = tmp_path / "event.json"
    event.write_text("{not json", encoding="utf-8")
    code, err = run(["invoke", "report", str(event)], capsys)
    assert_one_line_error(code, err, f"{event}:1")


@pytest.mark.parametrize(
    "expr", ["(" * 5000 + "a" + ")" * 5000, "NOT " * 5000 + "a", "-" * 5000 + "a"]
)
def test_parser_refuses_deep_nesting_with_a_clear_error(expr):
    # Given a query nested far deeper than anyone writes
    # When it is parsed
    # Then a QueryError (not a RecursionError) says how deep is allowed
    with pytest.raises(QueryError, match=f"deeper than {MAX_DEPTH}"):
        parse_query(expr)


def test_parser_accepts_nesting_up_to_the_limit():
    node = parse_query("(" * (MAX_DEPTH - 1) + "a" + ")" * (MAX_DEPTH - 1))
    assert node is not None


@pytest.mark.parametrize(
    ("function", "event", "says"),
    [
        ("collect", {"foo": 1}, "field 'source'"),
        ("collect", {"source": "nope"}, "unknown source 'nope'"),
        ("report", {"scheduled_time": "yesterday"}, "field 'scheduled_time'"),
        ("score", {"source": "hackernews"}, "Records"),
    ],
)
def test_invoke_with_an_event_the_function_cannot_take_is_one_line(
    function, event, says, tmp_path, capsys
):
    # Given an event file the function cannot take
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    # When it is invoked, Then one line names the file and the problem, before anything runs
    code, err = run(["invoke", function, str(path), "--out", str(tmp_path / "out")], capsys)
    assert_one_line_error(code, err, str(path), says)


def test_preview_of_an_unknown_topic_is_a_usage_error(tmp_path, capsys):
    code, err = run(["preview", "digest", "--topic", "nope", "--out", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "no topic named 'nope'")
