"""What template.yaml says about each function, read offline: memory, tracing, schedules and
stream mappings. The cost benchmark (bench/cost.py) and `stormwatch cost` take these from the
template instead of repeating them, so a changed schedule or batch size changes their numbers.

A development tool: it reads the checkout's template.yaml and is not used by any handler.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MINUTES_PER_DAY = 24 * 60
_NOT_FN = {"Ref", "Condition"}
_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": MINUTES_PER_DAY}


class CfnLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's short-form tags (`!Ref X` -> {"Ref": "X"}, ...)."""


def _intrinsic(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in _NOT_FN else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(
            None, None, f"unexpected {tag_suffix}", node.start_mark
        )
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506


def period_minutes(expression: str) -> int:
    """Minutes between two runs of a schedule: `rate(15 minutes)`, or a cron that fires once
    an hour or once a day (`cron(0 * * * ? *)`, `cron(30 6 * * ? *)`)."""
    rate = _RATE.fullmatch(expression.strip())
    if rate:
        return int(rate.group(1)) * _UNIT_MINUTES[rate.group(2).rstrip("s")]
    if expression.startswith("cron(") and expression.endswith(")"):
        minute, hour, *rest = expression[5:-1].split()
        if minute.isdigit() and rest[:3] == ["*", "*", "?"]:
            return 60 if hour == "*" else MINUTES_PER_DAY if hour.isdigit() else 0
    raise ValueError(f"schedule {expression!r}: only rate(...) and hourly/daily cron are modelled")


@dataclass(frozen=True)
class Schedule:
    name: str
    period_minutes: int
    input: dict[str, Any]

    @property
    def runs_per_day(self) -> float:
        return MINUTES_PER_DAY / self.period_minutes


@dataclass(frozen=True)
class StreamMapping:
    name: str
    batch_size: int
    window_seconds: int
    patterns: tuple[dict[str, Any], ...]

    def passes(self, record: dict[str, Any]) -> bool:
        """Whether Lambda's event filtering hands this stream record to the function."""
        return not self.patterns or any(matches(p, record) for p in self.patterns)


@dataclass(frozen=True)
class FunctionFacts:
    logical_id: str
    code_dir: str  # functions/<code_dir>/app.py
    memory_mb: int
    timeout_seconds: int
    architecture: str
    tracing: bool
    schedules: tuple[Schedule, ...] = field(default=())
    streams: tuple[StreamMapping, ...] = field(default=())
    queue_batch_size: int = 0  # BatchSize of its SQS event source mappings; 0: none


def functions(template: dict[str, Any]) -> dict[str, FunctionFacts]:
    """Every AWS::Serverless::Function by its code directory (`collect`, `score`, ...)."""
    defaults = template.get("Globals", {}).get("Function", {})
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = {**defaults, **resource["Properties"]}
        code_dir = Path(str(props["CodeUri"])).name
        events = props.get("Events", {})
        found[code_dir] = FunctionFacts(
            logical_id=logical_id,
            code_dir=code_dir,
            memory_mb=int(props.get("MemorySize", 128)),
            timeout_seconds=int(props.get("Timeout", 3)),
            architecture=(props.get("Architectures") or ["x86_64"])[0],
            tracing=props.get("Tracing") == "Active",
            schedules=tuple(_schedules(events)),
            streams=tuple(_streams(events)),
            queue_batch_size=max(
                (
                    int(e["Properties"].get("BatchSize", 10))
                    for e in events.values()
                    if e["Type"] == "SQS"
                ),
                default=0,
            ),
        )
    return found


def parameter_default(template: dict[str, Any], name: str) -> Any:
    return template["Parameters"][name]["Default"]


def _schedules(events: dict[str, Any]) -> list[Schedule]:
    return [
        Schedule(
            name=name,
            period_minutes=period_minutes(event["Properties"]["ScheduleExpression"]),
            input=json.loads(event["Properties"].get("Input", "{}")),
        )
        for name, event in events.items()
        if event["Type"] in ("ScheduleV2", "Schedule")
    ]


def _streams(events: dict[str, Any]) -> list[StreamMapping]:
    return [
        StreamMapping(
            name=name,
            batch_size=int(event["Properties"].get("BatchSize", 100)),
            window_seconds=int(event["Properties"].get("MaximumBatchingWindowInSeconds", 0)),
            patterns=tuple(
                json.loads(f["Pattern"])
                for f in event["Properties"].get("FilterCriteria", {}).get("Filters", [])
            ),
        )
        for name, event in events.items()
        if event["Type"] == "DynamoDB"
    ]


def matches(pattern: Any, data: Any) -> bool:
    """Lambda event filtering for the rules the template uses: nested keys, lists of exact
    values and {"prefix": ...}. A record passes when every key of the pattern matches."""
    if isinstance(pattern, dict):
        if not isinstance(data, dict):
            return False
        return all(key in data and matches(sub, data[key]) for key, sub in pattern.items())
    if isinstance(pattern, list):
        for option in pattern:
            if isinstance(option, dict):
                if set(option) != {"prefix"}:
                    raise NotImplementedError(f"filter rule not supported here: {option}")
                if isinstance(data, str) and data.startswith(option["prefix"]):
                    return True
            elif data == option:
                return True
        return False
    raise NotImplementedError(f"filter pattern value must be a list or object: {pattern!r}")


def runs_per_day(facts: dict[str, FunctionFacts]) -> tuple[dict[str, float], float]:
    """Scheduled runs a day: per source (schedules whose Input names one) and all the others."""
    per_source: dict[str, float] = {}
    other = 0.0
    for fn in facts.values():
        for schedule in fn.schedules:
            source = schedule.input.get("source")
            if source:
                per_source[source] = per_source.get(source, 0.0) + schedule.runs_per_day
            else:
                other += schedule.runs_per_day
    return per_source, other
