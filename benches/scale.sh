#!/usr/bin/env bash
# Scale benches (benches/RESULTS.md): `payequity gap`, `oaxaca`, `transparency`, `equal-value` and
# `audit-entitlements` (the demo audit's settings) on directories of Parquet files of 10M, 30M and 100M
# payroll rows, streamed and (where it fits) in memory; wall time and peak RSS from
# /usr/bin/time -v. Needs the release CLI (cargo build --release -p payequity-cli) and the venv's payequity
# (make venv; maturin develop) for the data generator.
#
#   benches/scale.sh [SIZES...]        # default: 10 30 100 (millions of rows)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/payequity}
DATA=${DATA:-/tmp/payequity-scale}
PY=${PY:-.venv/bin/python}
SIZES=("${@:-10 30 100}")
ANALYSES=${ANALYSES:-"gap oaxaca transparency equal-value audit-entitlements"}
CONFIG=(--config datasets/demo/audit.toml --format json -q)
GAP=(--pay-column base_pay,overtime_pay --hours-column hours_paid --by grade --format json -q)
OAXACA=(--outcome base_pay --log --group gender --group-a M --group-b F
        --covariates tenure_years,age,education_years --categorical grade,region --format json -q)

measure() {  # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  if /usr/bin/time -v "$@" > /dev/null 2> "$log"; then status=ok; else status="exit $?"; fi
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  printf "| %s | %s | %.2f GB | %s |\n" "$label" "$wall" "$(echo "$rss / 1048576" | bc -l)" "$status"
  rm -f "$log"
}

echo "| run | wall time | peak RSS | status |"
echo "|---|---|---|---|"
run() {  # analysis, size, engine
  local analysis=$1 size=$2 engine=$3 dir="$DATA/${2}m"
  case "$analysis" in
    gap) measure "gap ${size}M rows, $engine" "$BIN" gap "$dir" --engine "$engine" "${GAP[@]}" ;;
    oaxaca) measure "oaxaca ${size}M rows, $engine" "$BIN" oaxaca "$dir" --engine "$engine" "${OAXACA[@]}" ;;
    *) measure "$analysis ${size}M rows, $engine" "$BIN" "$analysis" "$dir" --engine "$engine" "${CONFIG[@]}" ;;
  esac
}

for size in ${SIZES[@]}; do
  dir="$DATA/${size}m"
  [ -d "$dir" ] || "$PY" benches/scale_data.py "$dir" "$size" > /dev/null
  for analysis in $ANALYSES; do
    run "$analysis" "$size" stream
    if [ "$size" -le 10 ]; then
      run "$analysis" "$size" memory
    fi
  done
done
