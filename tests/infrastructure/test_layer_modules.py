"""The layer ships what the handlers can import, nothing the CLI alone uses, compiled .pyc."""

from __future__ import annotations

import importlib.util
import re

from tests.infrastructure.cfn_template import REPO

_spec = importlib.util.spec_from_file_location("layer_modules", REPO / "scripts/layer_modules.py")
assert _spec and _spec.loader
layer_modules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layer_modules)

# what the issue (#12) found shipped in the layer though only the CLI uses it
DEV_TOOLS = {
    "cli",
    "local",
    "cycle",
    "preview",
    "backtest",
    "tune",
    "serve",
    "watchlist_cli",
    "cost",
    "template_facts",
}


def test_no_module_a_handler_can_import_imports_a_dev_tool():
    """Given the import graph from functions/*/app.py (every import, lazy ones included)
    When the modules the handlers can reach are listed
    Then none of the CLI's tools is among them, so the layer build may leave them out; and
    everything else in the package is reachable (no dev-only module hides in the layer)."""
    reachable = {m.removeprefix("stormwatch.") for m in layer_modules.layer_modules()}
    assert reachable & DEV_TOOLS == set()
    assert {m.removeprefix("stormwatch.") for m in layer_modules.dev_only_modules()} == DEV_TOOLS


def test_a_lazy_import_and_the_source_registry_count_as_imports(tmp_path):
    """Given a handler that imports a module whose function imports another lazily, and a
    package that imports its submodules by name (as stormwatch.sources does)
    When the reachable modules are derived
    Then the lazily imported module and every submodule are in, an unused one is out."""
    package = tmp_path / "layers/common/stormwatch"
    (package / "sources").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core.py").write_text("def f():\n    from stormwatch import helper\n")
    (package / "helper.py").write_text("")
    (package / "unused.py").write_text("")
    (package / "sources/__init__.py").write_text(
        "from importlib import import_module\n"
        "def get(name):\n    return import_module(f'stormwatch.sources.{name}')\n"
    )
    (package / "sources/one.py").write_text("")
    (tmp_path / "functions/a").mkdir(parents=True)
    (tmp_path / "functions/a/app.py").write_text("from stormwatch import core, sources\n")

    assert layer_modules.dev_only_modules(tmp_path) == {"stormwatch.unused"}


def test_the_layer_build_drops_dev_tools_and_compiles_for_the_runtime():
    """Given layers/common/Makefile
    Then it deletes what scripts/layer_modules.py calls dev-only and compiles the layer with
    the runtime's Python into .pyc that no timestamp invalidates (/opt is read-only)."""
    makefile = (REPO / "layers/common/Makefile").read_text(encoding="utf-8")
    assert 'scripts/layer_modules.py" --dev-only' in makefile
    assert re.search(
        r"\$\(PYTHON\) -m compileall .*--invalidation-mode unchecked-hash .*ARTIFACTS_DIR\)/python",
        makefile,
    )
