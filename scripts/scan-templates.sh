#!/usr/bin/env bash
# Scan every CloudFormation/SAM template in the repository with checkov, offline, as CI does:
#   1. install checkov (pinned) into .tools/checkov unless it is there,
#   2. find the templates: YAML/JSON files outside .git, .venv, .tools, .aws-sam and out/ that
#      declare AWSTemplateFormatVersion or a Transform (template.yaml today, any added later),
#   3. run checkov on them with --skip-download (no policy or guideline downloads),
#   4. fail on any failed check, and on any skipped check without a reason: an exception is a
#      `Metadata: checkov: skip: [{id: CKV_..., comment: why}]` on the resource itself.
# Idempotent. Needs network access to PyPI only for the first install.
#
# Usage: scripts/scan-templates.sh [--list]   (--list: print the templates it would scan)
# Environment:
#   CHECKOV_SPEC   pip requirement for checkov (default: checkov==3.3.30)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

CHECKOV_SPEC="${CHECKOV_SPEC:-checkov==3.3.30}"
CHECKOV_VENV="$ROOT/.tools/checkov"

list_templates() {
    find . \( -name .git -o -name .venv -o -name .tools -o -name .aws-sam -o -name out \
        -o -name node_modules \) -prune -o -type f \
        \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' -o -name '*.template' \) -print |
        sed 's#^\./##' | sort |
        { xargs -r grep -lE \
            '^(AWSTemplateFormatVersion|Transform)[[:space:]]*:|"AWSTemplateFormatVersion"[[:space:]]*:' ||
            true; }
}

mapfile -t templates < <(list_templates)
if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "${templates[@]}"
    exit 0
fi
[ "${#templates[@]}" -gt 0 ] || die "no CloudFormation template found under $ROOT"

tool_venv "$CHECKOV_VENV" "$CHECKOV_SPEC"
checkov="$CHECKOV_VENV/bin/checkov"
echo "checkov $("$checkov" --version)"

say "checkov on ${templates[*]}"
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
started=$(date +%s)
file_args=()
for template in "${templates[@]}"; do file_args+=(--file "$template"); done
# Exit code and verdict come from the JSON below (failed checks and unexplained skips).
"$checkov" "${file_args[@]}" --framework cloudformation --skip-download --compact \
    --output cli --output json --output-file-path "console,$results/results.json" || true
echo "checkov took $(($(date +%s) - started)) s"

say "verdict"
"$CHECKOV_VENV/bin/python" - "$results/results.json" <<'PY'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as handle:
    data = json.load(handle)
reports = data if isinstance(data, list) else [data]
failed, unexplained, passed, skipped = [], [], 0, []
for report in reports:
    results = report.get("results", {})
    passed += len(results.get("passed_checks", []))
    failed += results.get("failed_checks", [])
    for check in results.get("skipped_checks", []):
        reason = (check.get("check_result", {}).get("suppress_comment") or "").strip()
        if not reason or reason == "No comment provided":
            unexplained.append(check)
        else:
            skipped.append((check, reason))
print(f"{passed} passed, {len(failed)} failed, {len(skipped) + len(unexplained)} skipped")
for check, reason in skipped:
    print(f"  skip {check['check_id']} {check['resource']}: {reason}")
for check in failed:
    print(f"FAILED {check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}")
for check in unexplained:
    print(f"SKIPPED WITHOUT A REASON {check['check_id']} {check['resource']} ({check['file_path']})")
sys.exit(1 if failed or unexplained else 0)
PY
