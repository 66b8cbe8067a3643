"""Which stormwatch modules the Lambda functions can import, and which only the CLI uses.

    python scripts/layer_modules.py --dev-only   # files to leave out of the layer, one a line

The layer ships the modules reachable from the handlers (functions/*/app.py) through imports,
read from the source with `ast` (nothing is imported, so the layer build needs only the standard
library). Every import counts, also one inside a function or under TYPE_CHECKING, and
``import_module(f"stormwatch.pkg.{name}")`` stands for every module of ``stormwatch.pkg`` (the
source registry imports its adapters so). The rest (the CLI, the local runner, backtests, the
demo server, ...) is dev-only: layers/common/Makefile deletes it from the built layer.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_ROOT = ROOT / "layers/common"
PACKAGE = "stormwatch"


def module_files(package_root: Path = PACKAGE_ROOT) -> dict[str, Path]:
    """Dotted module name -> its file, for every module of the package."""
    modules = {}
    for path in sorted((package_root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(package_root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _dynamic_prefix(node: ast.Call) -> str | None:
    """'stormwatch.pkg.' for import_module(f"stormwatch.pkg.{...}"), else None."""
    name = getattr(node.func, "id", getattr(node.func, "attr", None))
    if name != "import_module" or not node.args or not isinstance(node.args[0], ast.JoinedStr):
        return None
    first = node.args[0].values[0] if node.args[0].values else None
    if isinstance(first, ast.Constant) and str(first.value).startswith(f"{PACKAGE}."):
        return str(first.value)
    return None


def imported_names(path: Path, module: str = "") -> set[str]:
    """Every dotted name an import in `path` may refer to (modules and module.attribute)."""
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and (prefix := _dynamic_prefix(node)):
            names.add(prefix + "*")
    return names


def _edges(names: set[str], modules: dict[str, Path]) -> set[str]:
    """The package's modules that `names` import, with their parent packages (run first)."""
    found = set()
    for name in names:
        if name.endswith(".*"):
            found.update(m for m in modules if m.startswith(name[:-1]))
        elif name in modules:
            found.add(name)
    return {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 2)}


def reachable(entry_files: list[Path], modules: dict[str, Path]) -> set[str]:
    """The package's modules that importing `entry_files` can load."""
    todo = [m for f in entry_files for m in _edges(imported_names(f), modules)]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_edges(imported_names(modules[module], module), modules) - seen)
    return seen


def handler_files(root: Path = ROOT) -> list[Path]:
    return sorted((root / "functions").glob("*/app.py"))


def layer_modules(root: Path = ROOT) -> set[str]:
    return reachable(handler_files(root), module_files(root / "layers/common"))


def dev_only_modules(root: Path = ROOT) -> set[str]:
    return set(module_files(root / "layers/common")) - layer_modules(root)


def main(argv: list[str]) -> int:
    if argv != ["--dev-only"]:
        print(__doc__, file=sys.stderr)
        return 2
    modules = module_files()
    for name in sorted(dev_only_modules()):
        print(modules[name].relative_to(PACKAGE_ROOT / PACKAGE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
