#!/bin/bash
# Run every libFuzzer target (build/fuzz/fuzz_*) for FUZZ_SECONDS each, seeded
# with stripped testprog builds of several Go versions and architectures
# (so the fuzzer starts from every pclntab format).  Fails on any crash,
# leak or sanitizer report.  Crash inputs are kept in build/fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
SEEDS=build/fuzz/seeds
mkdir -p "$SEEDS" build/fuzz/crashes
if [ -f build/testprogs/manifest.json ]; then
	python3 - "$SEEDS" <<'PY'
import json, os, shutil, sys
seeds = sys.argv[1]
m = json.load(open("build/testprogs/manifest.json"))
want = [b for b in m if b["prog"] == "inline" and (b["variant"] in ("stripped",) or b["goarch"] != "amd64")]
for b in want:
    dst = os.path.join(seeds, "%s-%s-%s" % (b["go"], b["variant"], b["goarch"]))
    if not os.path.exists(dst):
        shutil.copy(b["path"], dst)
PY
fi
echo "fuzz: $(ls "$SEEDS" | wc -l) seed binaries, ${SECS}s per target"
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=build/fuzz/corpus-$name
	mkdir -p "$corpus"
	echo "fuzz: $name"
	if ! "$f" -max_total_time="$SECS" -max_len=8388608 -rss_limit_mb=4096 -timeout=20 \
		-artifact_prefix=build/fuzz/crashes/ -print_final_stats=1 "$corpus" "$SEEDS" \
		> "build/fuzz/$name.log" 2>&1; then
		tail -n 40 "build/fuzz/$name.log"
		echo "fuzz: $name FAILED (log: build/fuzz/$name.log)"
		exit 1
	fi
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "build/fuzz/$name.log" | sed 's/^/  /'
done
