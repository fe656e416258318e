#!/usr/bin/env bash
# Builds the webhook fuzz targets and runs each for a short time (CI smoke
# fuzzing). cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 enables them
# on the stable toolchain. Needs `cargo install cargo-fuzz`.
#
#   fuzz/run.sh            # every target, 20 s each
#   FUZZ_SECONDS=300 fuzz/run.sh payload
#
# Exits non-zero if a target crashes; the crashing input is left in
# fuzz/artifacts/<target>/ (reproduce with `cargo fuzz run <target> <file>`).
set -euo pipefail

cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-20}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(verify sign_verify_roundtrip payload)
fi

cargo fuzz build
for target in "${targets[@]}"; do
    echo "== fuzzing $target for ${seconds}s"
    corpus=("$PWD/corpus/$target")
    mkdir -p "${corpus[0]}"
    if [ -d "$PWD/seeds/$target" ]; then
        corpus+=("$PWD/seeds/$target")
    fi
    cargo fuzz run "$target" "${corpus[@]}" -- \
        -max_total_time="$seconds" -dict="$PWD/webhooks.dict" -print_final_stats=1
done
