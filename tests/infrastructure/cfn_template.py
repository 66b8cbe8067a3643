"""Read template.yaml offline: a YAML loader that understands CloudFormation's short tags.

`!Ref X` becomes {"Ref": "X"}, `!GetAtt A.B` becomes {"Fn::GetAtt": ["A", "B"]}, `!Sub ...`
becomes {"Fn::Sub": ...} and so on, i.e. the same shape as the JSON form of the template.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from stormwatch.template_facts import CfnLoader, matches

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)


@cache
def _cached() -> str:
    return json.dumps(load())


def template() -> dict[str, Any]:
    """The parsed template.yaml (a fresh copy each call, so tests cannot disturb each other)."""
    return json.loads(_cached())


def resources(of_type: str | None = None) -> dict[str, dict[str, Any]]:
    items = template()["Resources"].items()
    return {k: v for k, v in items if of_type is None or v["Type"] == of_type}


def functions() -> dict[str, dict[str, Any]]:
    return resources("AWS::Serverless::Function")


def function_property(logical_id: str, name: str, default: Any = None) -> Any:
    """A function's property, falling back to Globals.Function like SAM does."""
    props = functions()[logical_id]["Properties"]
    if name in props:
        return props[name]
    return template().get("Globals", {}).get("Function", {}).get(name, default)


def function_environment(logical_id: str) -> dict[str, Any]:
    """Globals' environment variables merged with the function's own (SAM merges maps)."""
    glob = template().get("Globals", {}).get("Function", {})
    merged = dict(glob.get("Environment", {}).get("Variables", {}))
    props = functions()[logical_id]["Properties"]
    merged.update(props.get("Environment", {}).get("Variables", {}))
    return merged


def events(logical_id: str, of_type: str | None = None) -> dict[str, dict[str, Any]]:
    evs = functions()[logical_id]["Properties"].get("Events", {})
    return {k: v for k, v in evs.items() if of_type is None or v["Type"] == of_type}


def policy_statements(logical_id: str) -> list[dict[str, Any]]:
    """Inline policy statements of a function (SAM `Policies: - Statement: [...]`)."""
    policies = functions()[logical_id]["Properties"].get("Policies", [])
    if isinstance(policies, dict | str):
        policies = [policies]
    statements: list[dict[str, Any]] = []
    for policy in policies:
        if isinstance(policy, dict) and "Statement" in policy:
            body = policy["Statement"]
            for statement in body if isinstance(body, list) else [body]:
                statements.extend(_branches(statement))
    return statements


def _branches(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """A statement, or both branches of a conditional one (`!If [Cond, st, !Ref AWS::NoValue]`)
    without the NoValue: every statement the role can end up with."""
    if "Fn::If" not in statement:
        return [statement]
    _, when_true, when_false = statement["Fn::If"]
    return [st for st in (when_true, when_false) if st != {"Ref": "AWS::NoValue"}]


def conditional_statements(logical_id: str) -> dict[str, list[dict[str, Any]]]:
    """A function's conditional inline statements by the condition they depend on."""
    found: dict[str, list[dict[str, Any]]] = {}
    for policy in as_list(functions()[logical_id]["Properties"].get("Policies", [])):
        for statement in as_list(policy.get("Statement", [])) if isinstance(policy, dict) else []:
            if "Fn::If" in statement:
                condition = statement["Fn::If"][0]
                found.setdefault(condition, []).extend(_branches(statement))
    return found


def checkov_skips(resource: dict[str, Any]) -> dict[str, str]:
    """The scanner exceptions of a resource (Metadata: checkov: skip: [{id, comment}]) by id."""
    skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    return {skip["id"]: skip.get("comment", "") for skip in skips}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def filter_patterns(logical_id: str) -> list[dict[str, Any]]:
    """The JSON filter patterns of a function's DynamoDB stream events."""
    patterns = []
    for event in events(logical_id, "DynamoDB").values():
        for flt in event["Properties"].get("FilterCriteria", {}).get("Filters", []):
            patterns.append(json.loads(flt["Pattern"]))
    return patterns


def passes_filters(logical_id: str, record: dict[str, Any]) -> bool:
    """Whether Lambda would hand this stream record to the function (any filter matches)."""
    patterns = filter_patterns(logical_id)
    return not patterns or any(matches(p, record) for p in patterns)
