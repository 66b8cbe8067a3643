"""Cold-start cost of the Lambda handlers, written to docs/benchmarks.md.

    python bench/coldstart.py [--runs 7] [--json out.json] [--before before.json] [--no-write]
    python bench/coldstart.py --from-json out.json [--before before.json]   # re-render only

Each handler module (functions/<name>/app.py) is imported in a fresh interpreter, as Lambda does
at a cold start, and the CPU time of the import (``time.process_time``) is compared with that of
``import boto3`` in the same way: the median of ``--runs`` runs each. CPU time rather than wall
time because the machine is shared (other processes stretch wall time, not our CPU time).

Also measured, each in a fresh interpreter after the imports it needs:

* the compile cost a cold start pays when the layer ships no ``.pyc`` (Lambda's /opt is
  read-only, so nothing compiled is kept): ``compile()`` of every non-stdlib source file the
  handler loaded, boto3/botocore/s3transfer left out (the runtime provides them);
* first-use costs that come after the import: the first German dictionary lookup (simplemma's
  dictionary is decoded then), the first sentiment call in English and German (model weights
  are loaded then) and the first digest rendered (Jinja environment, templates, css-inline).

Handlers are measured with tracing off (``POWERTOOLS_TRACE_DISABLED=true``, the template's
default) and on (as in Lambda with ``TracingMode: Active``). ``--json`` keeps the numbers;
``--before`` puts an earlier run's numbers (e.g. of the commit before a change) beside them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measuring import cpu_seconds, write_region
from sentiment_accuracy import machine

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs/benchmarks.md"
START, END = "<!-- coldstart:start -->", "<!-- coldstart:end -->"
HANDLERS = ("collect", "score", "report", "web")
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")  # layers/common/Makefile

# the import, timed in a fresh interpreter; json is imported after the clock stops
IMPORT_CHILD = """
import sys, time
target = sys.argv[1]
start = time.process_time()
if target == "boto3":
    import boto3
else:
    sys.path.insert(0, "functions/" + target)
    import app
cpu = time.process_time() - start
import json
files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
print(json.dumps({"cpu": cpu, "modules": sorted(sys.modules), "files": [f for f in files if f]}))
"""

# a first use: `setup` untimed, then `timed` (both Python source) timed
FIRST_USE_CHILD = """
import sys, time
setup, timed = sys.argv[1], sys.argv[2]
exec(setup)
start = time.process_time()
exec(timed)
print(time.process_time() - start)
"""

FIRST_USES: dict[str, tuple[str, str]] = {
    "first German dictionary lookup (simplemma)": (
        "from stormwatch.inflection import dictionary_words",
        "dictionary_words('Ärger mit der Deutschen Bahn', 'de')",
    ),
    "first sentiment call, English": (
        "from stormwatch import sentiment",
        "sentiment.analyze('The update broke everything again, great job.', 'en')",
    ),
    "first sentiment call, German": (
        "from stormwatch import sentiment",
        "sentiment.analyze('Die Bahn ist schon wieder zu spät, super gemacht.', 'de')",
    ),
    "a new live watchlist version taken up (the shipped watchlist.yaml, as every function "
    "does at a cold start)": (
        "from pathlib import Path\n"
        "from stormwatch.watchlist_store import LiveWatchlist, StoredVersion\n"
        "class Store:\n"
        "    location = 's3://bench/watchlist.yaml'\n"
        "    def latest(self):\n"
        "        text = Path('watchlist.yaml').read_text(encoding='utf-8')\n"
        "        return StoredVersion(version_id='v1', text=text)\n"
        "live = LiveWatchlist(Path('watchlist.yaml'), Store())",
        "assert live.get().topics and live.version == 'v1'",
    ),
    "first digest rendered (import of the rendering stack included)": (
        "from datetime import UTC, datetime, timedelta\n"
        "from pathlib import Path\n"
        "from stormwatch.config import load_watchlist\n"
        "from stormwatch.digest import build_digest\n"
        "topic = load_watchlist('watchlist.yaml').topics[0]\n"
        "now = datetime(2026, 11, 25, 8, tzinfo=UTC)\n"
        "view = build_digest(topic, now=now, period_start=now - timedelta(days=1), mentions=[],"
        " previous_count=0, surges=[], sources=[], watchlist_name='bench')",
        "from stormwatch.render import render_digest\n"
        "render_digest(view, Path('templates'), lang=topic.digest.language)",
    ),
}


def child_env(tracing: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_"))}
    env["AWS_DEFAULT_REGION"] = "eu-central-1"
    env["POWERTOOLS_TRACE_DISABLED"] = "false" if tracing else "true"
    if tracing:
        # Powertools also turns tracing off outside Lambda; this makes it look like Lambda
        env["LAMBDA_TASK_ROOT"] = tempfile.gettempdir()
    return env


def run_child(code: str, *args: str, tracing: bool = False) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=child_env(tracing),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def import_cpu(target: str, tracing: bool = False) -> tuple[float, dict]:
    result = json.loads(run_child(IMPORT_CHILD, target, tracing=tracing))
    return result["cpu"], result


def interleaved_runs(targets: tuple[str, ...], runs: int) -> dict[str, list[float]]:
    """CPU seconds per target, one run of every target per round: each round sees about the
    same load on the shared machine, so a ratio is taken within a round. A first round is not
    counted (it writes any .pyc that is missing or stale)."""
    for target in targets:
        import_cpu(target)
    seconds: dict[str, list[float]] = {target: [] for target in targets}
    for _ in range(runs):
        for target in targets:
            seconds[target].append(import_cpu(target)[0])
    return seconds


def compile_seconds(files: list[str]) -> tuple[float, int]:
    """CPU seconds to compile the layer's share of `files` (no stdlib, no runtime-provided)."""
    stdlib = sysconfig.get_paths()["stdlib"]
    sources = [
        Path(f)
        for f in files
        if f.endswith(".py")
        and not f.startswith(stdlib + os.sep)
        and not any(f"{os.sep}{name}{os.sep}" in f for name in RUNTIME_PROVIDED)
    ]
    texts = [(p.read_bytes(), str(p)) for p in sources]

    def compile_all() -> None:
        for text, name in texts:
            compile(text, name, "exec", dont_inherit=True)

    return cpu_seconds(compile_all)[1], len(texts)


def measure(runs: int) -> dict:
    seconds = interleaved_runs(("boto3", *HANDLERS), runs)
    boto3 = seconds["boto3"]
    handlers = {}
    for name in HANDLERS:
        details = import_cpu(name)[1]
        compiled, n_files = compile_seconds(details["files"])
        traced = (
            statistics.median(import_cpu(name, tracing=True)[0] for _ in range(3))
            if name != "web"
            else None
        )
        handlers[name] = {
            "cpu": statistics.median(seconds[name]),
            "ratio": statistics.median(h / b for h, b in zip(seconds[name], boto3, strict=True)),
            "traced_cpu": traced,
            "modules": len(details["modules"]),
            "compile_cpu": compiled,
            "compiled_files": n_files,
        }
    first_uses = {
        label: statistics.median(float(run_child(FIRST_USE_CHILD, *code)) for _ in range(3))
        for label, code in FIRST_USES.items()
    }
    return {
        "runs": runs,
        "boto3": statistics.median(boto3),
        "handlers": handlers,
        "first_uses": first_uses,
    }


def _before_cell(before: dict | None, name: str) -> str:
    if not before:
        return ""
    old = before["handlers"][name]
    return f" {old['ratio']:.1f}× ({old['cpu'] * 1000:.0f} ms) |"


def handler_rows(result: dict, before: dict | None) -> list[str]:
    rows = []
    for name, h in result["handlers"].items():
        traced = f"{h['traced_cpu'] * 1000:.0f} ms" if h["traced_cpu"] is not None else "–"
        rows.append(
            f"| {name} |{_before_cell(before, name)} **{h['ratio']:.1f}×** "
            f"({h['cpu'] * 1000:.0f} ms) | {traced} | {h['modules']} | "
            f"{h['compile_cpu'] * 1000:.0f} ms ({h['compiled_files']} files) |"
        )
    return rows


def render(result: dict, before: dict | None, before_label: str) -> str:
    before_head = f" before ({before_label}) |" if before else ""
    lines = [
        "## Cold start: handler imports",
        "",
        f"Measured on {dt.date.today().isoformat()} ({machine()}) by `bench/coldstart.py`: "
        f"CPU time (`process_time`) of importing each handler module in a fresh interpreter, "
        f"against `import boto3` ({result['boto3'] * 1000:.0f} ms): {result['runs']} rounds, each "
        "importing boto3 and every handler once; the ratio is the median of the rounds' ratios. "
        "The machine was shared with other work: its load inflates CPU time too (caches, "
        "frequency), which is why ratios are taken within a round; they still vary by about "
        "±0.5× between runs of the script. Local `.pyc` files were warm, as they "
        "are in a layer that ships them; the last column is what each cold start paid on top "
        "while the layer shipped none (compiling the non-stdlib modules the handler loads, "
        "boto3/botocore left out: the runtime provides them).",
        "",
        f"| handler |{before_head} import vs boto3, tracing off | import, tracing on "
        "| modules loaded | compile without .pyc |",
        "|---|" + ("---:|" if before else "") + "---:|---:|---:|---:|",
        *handler_rows(result, before),
        "",
        "A handler's import includes boto3's, so 1.0× is the floor. What remains beyond it is "
        "what every path uses: pydantic and the models it builds (the watchlist's above all), "
        "PyYAML and email-validator for the watchlist (every cold start parses it), Powertools' "
        "Logger and Metrics, the batch utility where every invocation takes a batch (collect, "
        "score; report loads it for stream records only); report and web also load the "
        "rendering stack, which every one of their paths uses. Making those imports lazy would "
        "only move their cost into the first invocation.",
        "",
        "First uses after the import (CPU, median of 3 fresh interpreters):",
        "",
        "| first use | CPU |",
        "|---|---:|",
        *(f"| {label} | {cpu * 1000:.0f} ms |" for label, cpu in result["first_uses"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per import")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--before", type=Path, help="an earlier --json to compare with")
    parser.add_argument("--before-label", default="before", help="what --before measured")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--from-json", type=Path, help="render an earlier --json, measure nothing")
    args = parser.parse_args(argv)
    if args.from_json:
        result = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        result = measure(args.runs)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    before = json.loads(args.before.read_text(encoding="utf-8")) if args.before else None
    body = render(result, before, args.before_label)
    print(body)
    if not args.no_write:
        write_region(DOC, START, END, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
