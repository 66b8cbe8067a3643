"""`stormwatch watchlist push | pull | diff | history | rollback` against the embedded endpoint,
and a local cycle running the version pushed there (not the file)."""

from __future__ import annotations

import pytest
import yaml
from stormwatch import cli, local
from stormwatch.cycle import DEMO_NOW, CycleConfig, run_cycle

pytestmark = [pytest.mark.server, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


@pytest.fixture
def endpoint():
    with local.aws_endpoint() as url:
        yield url


@pytest.fixture
def files(tmp_path, repo):
    """The shipped watchlist, and a second version with one topic only."""
    shipped = repo / "watchlist.yaml"
    raw = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    raw["topics"] = [t for t in raw["topics"] if t["name"] == "acme-cloud"]
    raw["topics"][0]["terms"].append("acmestorm")
    one_topic = tmp_path / "one-topic.yaml"
    one_topic.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        shipped.read_text(encoding="utf-8").replace("hour: 8", "hour: 25", 1), encoding="utf-8"
    )
    return shipped, one_topic, bad


def watchlist(endpoint: str, *args: str) -> int:
    return cli.main(["watchlist", *args, "--endpoint", endpoint])


def test_push_history_diff_rollback_and_pull_on_the_embedded_endpoint(
    endpoint, files, capsys, tmp_path
):
    shipped, one_topic, _ = files
    # Given the endpoint's store with the shipped watchlist as its first version
    from stormwatch.cycle import watchlist_store
    from stormwatch.watchlist_store import LOCAL_LOCATION

    watchlist_store(LOCAL_LOCATION).ensure_bucket()
    assert watchlist(endpoint, "push", str(shipped), "-m", "first version") == 0
    # When the one-topic version is pushed
    assert watchlist(endpoint, "diff", str(one_topic)) == 1  # differs from the live one
    assert "+  - acmestorm" in capsys.readouterr().out
    assert watchlist(endpoint, "push", str(one_topic), "-m", "add acmestorm") == 0
    # Then it is live, history lists both newest first, and a diff against it is empty
    assert watchlist(endpoint, "diff", str(one_topic)) == 0
    capsys.readouterr()
    assert watchlist(endpoint, "history") == 0
    history = capsys.readouterr().out.splitlines()
    assert len(history) == 2 and history[0].startswith("* ") and history[0].endswith("acmestorm")
    assert history[1].endswith("first version")
    # When rolled back, the shipped text is live again (pulled to a file)
    assert watchlist(endpoint, "rollback") == 0
    assert "rolled back" in capsys.readouterr().out
    pulled = tmp_path / "pulled.yaml"
    assert watchlist(endpoint, "pull", "-o", str(pulled)) == 0
    assert pulled.read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")
    # And the first version is still there by its id
    first_id = history[1].lstrip("* ").split()[0]
    assert watchlist(endpoint, "pull", "--version", first_id) == 0
    assert capsys.readouterr().out == shipped.read_text(encoding="utf-8")


def test_a_bad_file_is_refused_with_file_line_topic_and_field_and_exit_2(endpoint, files, capsys):
    shipped, _, bad = files
    # Given a live version
    from stormwatch.cycle import watchlist_store
    from stormwatch.watchlist_store import LOCAL_LOCATION

    store = watchlist_store(LOCAL_LOCATION)
    store.ensure_bucket()
    assert watchlist(endpoint, "push", str(shipped)) == 0
    live = store.latest()
    capsys.readouterr()
    # When a file with digest hour 25 is pushed
    assert watchlist(endpoint, "push", str(bad)) == 2
    # Then the error names file, line, topic and field, and the live version is unchanged
    err = capsys.readouterr().err
    assert "refused, nothing changed" in err
    assert f"{bad}:" in err and "topic 'acme-cloud'" in err and "field 'digest.hour'" in err
    assert store.latest() == live


def test_without_location_or_endpoint_the_command_says_what_it_needs(capsys, monkeypatch):
    monkeypatch.delenv("STORMWATCH_WATCHLIST_LOCATION", raising=False)
    # When history is asked for without saying where the watchlist lives
    assert cli.main(["watchlist", "history"]) == 2
    # Then one line says how to name it
    (line,) = capsys.readouterr().err.splitlines()
    assert "--location s3://" in line and "--endpoint" in line


def test_a_cycle_on_the_endpoint_runs_the_pushed_version_not_the_file(endpoint, files, tmp_path):
    shipped, one_topic, _ = files
    # Given the one-topic version pushed to the endpoint the cycle will use
    from stormwatch.cycle import watchlist_store
    from stormwatch.watchlist_store import LOCAL_LOCATION

    watchlist_store(LOCAL_LOCATION).ensure_bucket()
    assert watchlist(endpoint, "push", str(one_topic)) == 0
    # When a replayed cycle runs there with the shipped (two-topic) file
    lines: list[str] = []
    config = CycleConfig(
        watchlist_path=shipped,
        templates_dir=local.repo_path("templates"),
        out_dir=tmp_path / "out",
        endpoint=endpoint,
        replay_dir=local.repo_path("demo", "recordings"),
        clock=lambda: DEMO_NOW,
        sources=["mastodon"],
    )
    result = run_cycle(config, echo=lines.append)
    # Then the functions collected for the live version's one topic only, and the run says so
    assert {c["topic"] for c in result.collected} == {"acme-cloud"}
    assert any(line.startswith("• watchlist live version") for line in lines)
