#!/usr/bin/env bash
# PsaPortal's everyday commands, and the long suites.
#   ./build.sh run    the portal on its embedded defaults (SQLite under src/PsaPortal.Web/data, demo data) at http://localhost:5080
#   ./build.sh test   every test; installs Debian's postgresql and chromium first when they are missing
#   ./build.sh load   the long suites (docs/quality.md): 10 minutes of load, then 10 minutes of load with PSA faults
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

have_postgresql() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; }
have_chromium() { command -v chromium >/dev/null || [ -x "${CHROMIUM_PATH:-/nonexistent}" ]; }

install_test_prerequisites() {
  local missing=()
  have_postgresql || missing+=(postgresql)
  have_chromium || missing+=(chromium)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing ${missing[*]} from Debian's packages (the PostgreSQL and browser tests need them)..."
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  have_postgresql || { echo "postgresql did not install" >&2; exit 1; }
  have_chromium || { echo "chromium did not install" >&2; exit 1; }
}

run_tests() {
  install_test_prerequisites
  dotnet build PsaPortal.sln -nologo -clp:ErrorsOnly
  local log
  log=$(mktemp)
  set +e
  # One test project at a time (-m:1): the browser, PostgreSQL and sandbox suites each want both cores, and timing
  # under contention is not what they test. A hung test is dumped and killed rather than eating the CI budget.
  dotnet test PsaPortal.sln --no-build -nologo -m:1 --blame-hang-timeout 10m 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  set -e
  # One closing line over all test assemblies.
  awk '/(Passed|Failed)!  - Failed:/ {
         for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
       }
       END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' FS='[ ,]+' "$log"
  rm -f "$log"
  return "$status"
}

# The long suites, kept out of ./build.sh test: each wants the whole machine for its measured window. Each prints its
# figures and exits 1 when it counted any error; both always run.
run_load() {
  dotnet build bench/PsaPortal.Bench -c Release -nologo -clp:ErrorsOnly
  local bench=(dotnet bench/PsaPortal.Bench/bin/Release/net10.0/PsaPortal.Bench.dll load --sessions 50 --ingest-rps 100)
  local status=0
  echo "== load: ${LOAD_MINUTES:-10} minutes, no faults"
  # The 10,000-tenant run needs about 11 minutes (ConnectWise's budget of 1,000 calls a minute): after the window it is
  # waited for, with the load off, and checked against the sandbox.
  "${bench[@]}" --tenants 10000 --minutes "${LOAD_MINUTES:-10}" --finish-minutes 15 || status=1
  # 300 tenants, so that runs finish under the faults (retries, storms and the ConnectWise budget slow them about twentyfold)
  # and each is checked against the sandbox row by row.
  echo "== load with PSA faults and the database file locked: ${LOAD_MINUTES:-10} minutes"
  "${bench[@]}" --tenants 300 --minutes "${LOAD_MINUTES:-10}" --faults || status=1
  return "$status"
}

case "${1:-}" in
  # glibc's malloc arenas capped at two, as the Dockerfile sets it (ADR-0015); an operator's own value wins.
  run) shift; MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" exec dotnet run --project src/PsaPortal.Web -- --demo "$@" ;;
  test) run_tests ;;
  load) run_load ;;
  *) usage ;;
esac
