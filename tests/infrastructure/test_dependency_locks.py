"""The lock files against their inputs: the layer and the dev venv install exactly what was
resolved (versions and hashes), the locks are up to date, and no floor admits a release with a
published advisory. A failure here after editing requirements.txt or pyproject.toml: run
`make lock` and commit the lock files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.infrastructure.cfn_template import REPO

LAYER_INPUT = REPO / "layers/common/requirements.txt"
LAYER_LOCK = REPO / "layers/common/requirements.lock"
DEV_LOCK = REPO / "requirements-dev.lock"

# the newest release with a published advisory, per package: a floor must lie above it
ADVISORIES = {
    "requests": ("2.32.5", "CVE-2026-25645, fixed in 2.33.0"),
    "jinja2": ("3.1.5", "CVE-2025-27516, fixed in 3.1.6"),
}


def _entries(lock: Path) -> list[tuple[str, Version, list[str]]]:
    """(name, version, hashes) of each pinned line; continuation lines joined."""
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line.split(" --hash")[0].strip())
        (pin,) = requirement.specifier
        assert pin.operator == "==", line
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        entries.append((canonicalize_name(requirement.name), Version(pin.version), hashes))
    return entries


def _locked(lock: Path) -> dict[str, set[Version]]:
    versions: dict[str, set[Version]] = {}
    for name, version, _ in _entries(lock):
        versions.setdefault(name, set()).add(version)
    return versions


def _requirements(lines: list[str]) -> list[Requirement]:
    return [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]


def _layer_inputs() -> list[Requirement]:
    return _requirements(LAYER_INPUT.read_text(encoding="utf-8").splitlines())


def _project_inputs() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return _requirements(project["dependencies"] + project["optional-dependencies"]["dev"])


def _runtime_provided() -> set[str]:
    makefile = (REPO / "layers/common/Makefile").read_text(encoding="utf-8")
    return set(re.search(r"^RUNTIME_PROVIDED := (.+)$", makefile, re.MULTILINE)[1].split())


@pytest.mark.parametrize("lock", [LAYER_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_locked_package_is_one_exact_version_with_hashes(lock):
    # Given a lock file
    entries = _entries(lock)
    assert entries
    # Then each line pins one version and lists the hashes pip checks (--require-hashes)
    for name, _, hashes in entries:
        assert hashes, f"{name} has no hash in {lock.name}"


@pytest.mark.parametrize(
    ("lock", "inputs"),
    [(LAYER_LOCK, _layer_inputs), (DEV_LOCK, _project_inputs)],
    ids=["layer", "dev"],
)
def test_the_lock_is_up_to_date_with_its_inputs(lock, inputs):
    # Given the requirements a lock was made from, and the lock
    locked = _locked(lock)
    for requirement in inputs():
        name = canonicalize_name(requirement.name)
        # Then every requirement is locked at a version it allows
        assert name in locked, f"{name} is not in {lock.name}: run `make lock`"
        allowed = [v for v in locked[name] if requirement.specifier.contains(v, prereleases=True)]
        assert allowed, f"{lock.name} has {name} {locked[name]}, not {requirement}: `make lock`"


def test_the_layer_lock_leaves_out_what_the_runtime_provides():
    # Given what the Lambda runtime provides (the layer Makefile's list)
    provided = _runtime_provided()
    assert {"boto3", "botocore"} <= provided
    # Then the layer's lock does not bundle it
    assert not provided & set(_locked(LAYER_LOCK))


def test_tests_run_against_the_versions_the_layer_ships():
    # Given both locks
    layer, dev = _locked(LAYER_LOCK), _locked(DEV_LOCK)
    # Then every package the layer ships is locked at the same version for the dev venv
    for name, versions in layer.items():
        assert dev.get(name) == versions, f"{name}: layer {versions}, dev {dev.get(name)}"


@pytest.mark.parametrize("package", sorted(ADVISORIES))
def test_no_floor_admits_a_release_with_a_published_advisory(package):
    vulnerable, advisory = ADVISORIES[package]
    # Given the package's requirement in the layer and in pyproject.toml
    for source, inputs in (("layer", _layer_inputs()), ("pyproject", _project_inputs())):
        (requirement,) = [r for r in inputs if canonicalize_name(r.name) == package]
        # Then it refuses the newest vulnerable release
        assert not requirement.specifier.contains(vulnerable), (source, str(requirement), advisory)


def test_pyproject_runtime_dependencies_keep_step_with_the_layer():
    # Given the layer's requirements and pyproject.toml's runtime dependencies
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {canonicalize_name(r.name): r for r in _requirements(project["dependencies"])}
    layer = {canonicalize_name(r.name): r for r in _layer_inputs()}
    # Then they name the same packages (plus what the runtime provides) with the same floors
    assert set(runtime) - _runtime_provided() == set(layer)
    for name, requirement in layer.items():
        floors = {s for s in requirement.specifier if s.operator == ">="}
        assert floors <= set(runtime[name].specifier), (name, str(runtime[name]))
