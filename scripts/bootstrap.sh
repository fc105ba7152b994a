#!/usr/bin/env bash
# Set up hfcourse on a fresh machine (virtualenv, dependencies, offline assets), then either start the
# platform (`serve`) or run the whole test suite (`test`). Idempotent: a second run only checks.
#   bash scripts/bootstrap.sh serve [hfcourse serve options]
#   bash scripts/bootstrap.sh test  [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"; shift || true
case "$mode" in serve|test|setup) ;; *) echo "usage: bash scripts/bootstrap.sh serve|test|setup [args...]" >&2; exit 2;; esac

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Python environment (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --upgrade pip
# The CPU build of torch first, so that nothing below pulls a CUDA build.
python -c 'import torch, sys; sys.exit(torch.__version__ != "2.13.0+cpu" and torch.__version__ != "2.13.0")' 2>/dev/null \
  || python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[test]"

step "Offline assets (hfcourse assets sync)"
hfcourse assets sync

if [ "$mode" = setup ]; then exit 0; fi
if [ "$mode" = serve ]; then
  step "Starting the platform"
  exec hfcourse serve "$@"
fi

step "System packages for the tests (Chromium, PostgreSQL, bubblewrap)"
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v bwrap >/dev/null || need+=(bubblewrap)
fc-list 2>/dev/null | grep -qi "WenQuanYi\|Noto Sans CJK" || need+=(fonts-wqy-microhei)  # CJK glyphs in screenshots
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
  fi
fi

step "PostgreSQL for the database tests"
if url=$(bash scripts/start_postgres.sh); then export DATABASE_URL_TEST="$url"; echo "DATABASE_URL_TEST=$url"; fi

step "Test suite"
set +e
python -m pytest "$@"
rc=$?
set -e
bash scripts/start_postgres.sh stop >/dev/null 2>&1 || true
exit $rc
