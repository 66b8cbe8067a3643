"""samconfig.toml and scripts/sam-check.sh: deployable environments, a CI check that runs."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tomllib

import pytest

from tests.infrastructure import cfn_template as cfn
from tests.infrastructure.cfn_template import REPO


def _config() -> dict:
    return tomllib.loads((REPO / "samconfig.toml").read_text(encoding="utf-8"))


def _overrides(env: str) -> dict[str, str]:
    raw = _config()[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(raw))


def test_samconfig_has_default_dev_and_prod():
    # Given samconfig.toml
    config = _config()
    # Then it is version 0.1 with the three environments
    assert config["version"] == 0.1
    assert {"default", "dev", "prod"} <= set(config)


@pytest.mark.parametrize("env", ["default", "dev", "prod"])
def test_each_environment_deploys_to_eu_central_1_with_a_managed_bucket(env):
    # Given an environment's deploy parameters
    config = _config()[env]
    deploy = config["deploy"]["parameters"]
    # Then it deploys to eu-central-1 with a SAM-managed artifact bucket and IAM capability
    assert config["global"]["parameters"]["region"] == "eu-central-1"
    assert deploy["resolve_s3"] is True
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    assert deploy["stack_name"].startswith("stormwatch-")


@pytest.mark.parametrize("env", ["default", "dev", "prod"])
def test_each_environment_sets_every_parameter_without_a_default(env):
    # Given the template's parameters that have no default
    required = {name for name, p in cfn.template()["Parameters"].items() if "Default" not in p}
    # When an environment's parameter overrides are read
    overrides = _overrides(env)
    # Then they set all of them, and only parameters the template has
    assert required <= set(overrides), sorted(required - set(overrides))
    assert set(overrides) <= set(cfn.template()["Parameters"])
    # And the stage is one the template allows
    assert overrides["Stage"] in cfn.template()["Parameters"]["Stage"]["AllowedValues"]


def test_prod_asks_before_changing_and_the_stages_do_not_share_a_stack():
    # Given the dev and prod environments
    config = _config()
    dev, prod = config["dev"]["deploy"]["parameters"], config["prod"]["deploy"]["parameters"]
    # Then prod shows the change set for confirmation, and the stacks differ
    assert prod["confirm_changeset"] is True
    assert dev["stack_name"] != prod["stack_name"]
    assert _overrides("prod")["Stage"] == "prod"
    assert _overrides("dev")["Stage"] == "dev"


def test_default_builds_are_cached_and_parallel():
    # Given the default build parameters
    build = _config()["default"]["build"]["parameters"]
    # Then `sam build` reuses unchanged layers and builds in parallel
    assert build["cached"] is True
    assert build["parallel"] is True


def test_sam_check_script_is_executable_valid_bash_without_telemetry():
    # Given the CI's SAM check script
    script = REPO / "scripts/sam-check.sh"
    text = script.read_text(encoding="utf-8")
    # Then it is executable, parses as bash, and turns SAM telemetry off
    assert script.stat().st_mode & 0o111
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run([bash, "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "export SAM_CLI_TELEMETRY=0" in text
    assert "validate --lint" in text
