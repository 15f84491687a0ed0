#!/usr/bin/env bash
# Cold start of the portal: from process start to the first page served (the sign-in page, HTTP 200), on a fresh
# SQLite data folder (so migrations and the demo seed run) and again on the existing one (a restart).
#   bench/cold-start.sh [runs]     prints one line per run and the medians
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
out=$(mktemp -d)
dotnet publish src/PsaPortal.Web -c Release -o "$out/app" -nologo -v quiet >/dev/null

port=5199
measure() { # $1 = data folder; prints milliseconds to first 200
  local start end pid
  start=$(date +%s%N)
  ASPNETCORE_ENVIRONMENT=Production dotnet "$out/app/PsaPortal.Web.dll" --demo --urls "http://127.0.0.1:$port" \
    --Storage:DataDirectory="$1" --Demo:Password=Bench-Password-2026 >"$out/log" 2>&1 &
  pid=$!
  until curl -fso /dev/null "http://127.0.0.1:$port/account/login"; do
    kill -0 "$pid" 2>/dev/null || { cat "$out/log" >&2; exit 1; }
    sleep 0.02
  done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo $(( (end - start) / 1000000 ))
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

fresh=(); restart=()
for i in $(seq "$runs"); do
  rm -rf "$out/data"
  fresh+=("$(measure "$out/data")")
  restart+=("$(measure "$out/data")")
  echo "run $i: fresh ${fresh[-1]} ms, restart ${restart[-1]} ms"
done
echo "cold start to first page, median of $runs: fresh database $(printf '%s\n' "${fresh[@]}" | median) ms, existing database $(printf '%s\n' "${restart[@]}" | median) ms"
rm -rf "$out"
