#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, one after the other,
# and prints the executions, speed, coverage and outcome of each.
#
#   fuzz/run-all.sh SECONDS [TARGET...]
#
# Seeds from fuzz/seeds/<target>/ are copied into fuzz/corpus/<target>/ first (the
# corpus is gitignored and grows across runs). Logs go to fuzz/target/fuzz-logs/.
# Environment:
#   CARGO_FUZZ_FLAGS  extra flags for `cargo fuzz run`, e.g. "--sanitizer none"
#   LIBFUZZER_FLAGS   extra libFuzzer flags, e.g. "-max_len=512"
# Exits non-zero when a target crashed or did not build; the input is in fuzz/artifacts/<target>/.
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 SECONDS [TARGET...]" >&2
    exit 2
fi
seconds=$1
shift
cd "$(dirname "$0")"

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(mrz clave curp credential_json)
fi

# cargo fuzz passes -Z flags to rustc; on a stable toolchain they need RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
read -r -a cargo_flags <<<"${CARGO_FUZZ_FLAGS:-}"
read -r -a extra_flags <<<"${LIBFUZZER_FLAGS:-}"

mkdir -p target/fuzz-logs
cargo fuzz build "${cargo_flags[@]}" >&2

failed=0
summary=()
for target in "${targets[@]}"; do
    corpus=corpus/$target
    log=target/fuzz-logs/$target.log
    mkdir -p "$corpus"
    if [[ -d seeds/$target ]]; then
        cp -n seeds/"$target"/* "$corpus"/
    fi
    flags=(-max_total_time="$seconds" -print_final_stats=1)
    if [[ -f dicts/$target.dict ]]; then
        flags+=(-dict="dicts/$target.dict")
    fi
    echo "== $target: ${seconds}s, corpus $corpus ($(ls "$corpus" | wc -l) inputs), log fuzz/$log" >&2
    outcome=ok
    if ! cargo fuzz run "${cargo_flags[@]}" "$target" "$corpus" -- "${flags[@]}" "${extra_flags[@]}" >"$log" 2>&1; then
        outcome=FAILED
        failed=1
        if artifact=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1); then
            outcome="CRASH ${artifact#Test unit written to }"
        fi
        grep -m1 -A1 -E "panicked at|ERROR: AddressSanitizer|ERROR: libFuzzer" "$log" >&2 || true
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    if [[ -z $execs ]]; then
        execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
    fi
    cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
    ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
    corp=$(grep -o 'corp: [0-9]*/[0-9a-zA-Z]*' <<<"$last" | cut -d' ' -f2 || true)
    summary+=("$(printf '%-16s %12s %8s %6s %7s %10s  %s' "$target" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$outcome")")
done

printf '\n%-16s %12s %8s %6s %7s %10s  %s\n' target executions exec/s cov ft corpus outcome
printf '%s\n' "${summary[@]}"
exit "$failed"
