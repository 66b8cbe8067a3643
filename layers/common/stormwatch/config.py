"""Watchlist loading: YAML -> validated `Watchlist`; errors name file, line, topic and field."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from stormwatch.watchlist import Topic, Watchlist


@dataclass(frozen=True)
class WatchlistProblem:
    file: str
    line: int | None
    topic: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        topic = f" topic {self.topic!r}" if self.topic else ""
        return f"{where}:{topic} field '{self.field}': {self.message}"


class WatchlistError(ValueError):
    """The watchlist cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[WatchlistProblem]):
        self.problems = problems
        super().__init__("invalid watchlist:\n" + "\n".join(f"  {p}" for p in problems))


def _node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Follow a pydantic error location through the YAML node tree as far as it goes."""
    node = root
    deepest = root
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if found is None and _is_tag(node, part):
                continue  # a tagged union's tag (alerts.channels: "slack") is no key
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        deepest = node
    return deepest


def _is_tag(node: yaml.MappingNode, part: str) -> bool:
    return any(getattr(k, "value", None) == "kind" and v.value == part for k, v in node.value)


def _topic_name(raw: Any, loc: tuple[Any, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "topics" and isinstance(loc[1], int):
        try:
            name = raw["topics"][loc[1]].get("name")
        except (KeyError, IndexError, TypeError, AttributeError):
            return f"#{loc[1] + 1}"
        return str(name) if name else f"#{loc[1] + 1}"
    return None


def _problem(file: str, line: int | None, raw: Any, loc: tuple[Any, ...], msg: str):
    topic = _topic_name(raw, loc)
    # the field path inside the topic reads better than "topics.3.digest.hour"
    inner = loc[2:] if topic is not None else loc
    field = ".".join(str(p) for p in inner) or "(topic)"
    return WatchlistProblem(file, line, topic, field, msg)


def _duplicate_keys(root: yaml.Node | None, raw: Any, file: str) -> list[WatchlistProblem]:
    """Keys set twice in one mapping: YAML keeps the last silently, so a second `terms:`
    would replace the first without a word. Walks the node tree without recursion."""
    problems = []
    stack: list[tuple[yaml.Node | None, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, (*path, i)) for i, child in enumerate(node.value))
        if not isinstance(node, yaml.MappingNode):
            continue
        first_line: dict[object, int] = {}
        for key, value in node.value:
            name = getattr(key, "value", None)
            line = key.start_mark.line + 1
            if isinstance(name, str) and name in first_line:
                message = f"set twice (first on line {first_line[name]}); keep one"
                problems.append(_problem(file, line, raw, (*path, name), message))
            elif isinstance(name, str):
                first_line[name] = line
            stack.append((value, (*path, name)))
    return sorted(problems, key=lambda p: p.line or 0)


def watchlist_warnings(watchlist: Watchlist, file: str = "watchlist.yaml") -> list[str]:
    """What is valid but probably not meant: a topic that collects nothing, or tells nobody."""
    warnings = []
    for topic in watchlist.topics:
        where = f"{file}: topic {topic.name!r}: warning:"
        if not topic.sources.enabled():
            warnings.append(f"{where} no sources enabled, nothing will be collected")
        if not (topic.digest.recipients or topic.alerts.recipients):
            warnings.append(f"{where} no recipients, digests and alerts go to nobody")
    return warnings


# libyaml when PyYAML has it (its wheels do): ~6x faster, and it caps nesting at 1,000 levels
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_WATCHLIST_CHARS = 1_000_000


def _compose(text: str, file: str) -> tuple[yaml.Node | None, Any]:
    """The YAML node tree (for lines) and the plain data, from one parse."""
    if len(text) > MAX_WATCHLIST_CHARS:
        message = f"larger than {MAX_WATCHLIST_CHARS:,} characters; no watchlist needs that"
        raise WatchlistError([WatchlistProblem(file, None, None, "(file)", message)])
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        return root, loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise WatchlistError(
            [WatchlistProblem(file, line, None, "(yaml)", str(getattr(exc, "problem", exc)))]
        ) from exc
    except RecursionError:
        # pure-Python PyYAML composes nested collections recursively
        raise WatchlistError(
            [WatchlistProblem(file, None, None, "(yaml)", "nested too deeply to be a watchlist")]
        ) from None
    finally:
        loader.dispose()


def parse_watchlist(text: str, file: str = "watchlist.yaml") -> Watchlist:
    root, raw = _compose(text, file)
    duplicates = _duplicate_keys(root, raw, file)
    if duplicates:
        raise WatchlistError(duplicates)
    try:
        watchlist = Watchlist.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            node = _node_at(root, loc)
            line = node.start_mark.line + 1 if node is not None else None
            problems.append(_problem(file, line, raw, loc, error["msg"]))
        raise WatchlistError(problems) from exc
    _check_queries(watchlist, root, file)
    return watchlist


def _check_queries(watchlist: Watchlist, root: yaml.Node | None, file: str) -> None:
    """Compile every topic's query now, so a typo fails at load time, not at 3 a.m."""
    from stormwatch.query import QueryError, compile_topic

    problems = []
    for index, topic in enumerate(watchlist.topics):
        try:
            compile_topic(topic)
        except QueryError as exc:
            node = _node_at(root, ("topics", index, "query"))
            line = node.start_mark.line + 1 if node is not None else None
            problems.append(WatchlistProblem(file, line, topic.name, "query", str(exc)))
    if problems:
        raise WatchlistError(problems)


def load_watchlist(path: Path | str) -> Watchlist:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WatchlistError(
            [WatchlistProblem(str(path), None, None, "(file)", f"cannot read: {exc.strerror}")]
        ) from exc
    return parse_watchlist(_utf8_text(data, str(path)), str(path))


def _utf8_text(data: bytes, file: str) -> str:
    """The file as text; anything but UTF-8 (Latin-1, UTF-16) is refused at the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
        found = (
            "UTF-16"
            if utf16
            else f"byte 0x{data[exc.start]:02x} at column {_column(data, exc.start)}"
        )
        raise WatchlistError(
            [
                WatchlistProblem(
                    file, line, None, "(file)", f"not UTF-8 text ({found}); save it as UTF-8"
                )
            ]
        ) from None


def _column(data: bytes, offset: int) -> int:
    return offset - (data.rfind(b"\n", 0, offset) + 1) + 1


@lru_cache(maxsize=4)
def cached_watchlist(path: str) -> Watchlist:
    """Per-container cache for the Lambda functions (the file is part of the deployment)."""
    return load_watchlist(path)


@dataclass(frozen=True)
class ExampleResult:
    topic: str
    text: str
    expected: bool
    actual: bool

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


def run_examples(topics: list[Topic]) -> list[ExampleResult]:
    """Run each topic's must-match / must-not-match examples through its matcher."""
    from stormwatch.query import compile_topic

    results = []
    for topic in topics:
        matcher = compile_topic(topic)
        for text in topic.examples.match:
            results.append(ExampleResult(topic.name, text, True, matcher.matches(text)))
        for text in topic.examples.no_match:
            results.append(ExampleResult(topic.name, text, False, matcher.matches(text)))
    return results
