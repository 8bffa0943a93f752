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
# fuzz_goroutines reads "process memory" against one real binary (the
# newest non-PIE testprogs/parked build), seeded with memory recorded
# from that program running (needs root to read /proc/PID/mem).
GSEEDS=build/fuzz/seeds-goroutines
mkdir -p "$GSEEDS"
GOTRACE_FUZZ_GO=$(python3 -c '
import json, sys
try:
    m = json.load(open("build/testprogs/manifest.json"))
except OSError:
    sys.exit(0)
b = [x for x in m if x["prog"] == "parked" and x["variant"] == "default" and x["goarch"] == "amd64"]
b.sort(key=lambda x: [int(v) for v in x["go"][2:].split(".")])
print(b[-1]["path"] if b else "")')
export GOTRACE_FUZZ_GO
if [ -n "$GOTRACE_FUZZ_GO" ] && [ ! -s "$GSEEDS/parked" ] && [ "$(id -u)" = 0 ]; then
	python3 tests/fuzz/goroutines_seed.py build/gotrace "$GOTRACE_FUZZ_GO" "$GSEEDS/parked" ||
		echo "fuzz: no recorded seed for fuzz_goroutines"
fi
echo "fuzz: $(ls "$SEEDS" | wc -l) seed binaries, ${SECS}s per target"
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=build/fuzz/corpus-$name
	seeds=$SEEDS
	if [ "$name" = fuzz_goroutines ]; then
		if [ -z "$GOTRACE_FUZZ_GO" ]; then
			echo "fuzz: $name FAILED: no testprogs/parked build (run scripts/build-testprogs.sh)"
			exit 1
		fi
		seeds=$GSEEDS
	fi
	mkdir -p "$corpus"
	echo "fuzz: $name"
	if ! "$f" -max_total_time="$SECS" -max_len=8388608 -rss_limit_mb=4096 -timeout=20 \
		-artifact_prefix=build/fuzz/crashes/ -print_final_stats=1 "$corpus" "$seeds" \
		> "build/fuzz/$name.log" 2>&1; then
		tail -n 40 "build/fuzz/$name.log"
		echo "fuzz: $name FAILED (log: build/fuzz/$name.log)"
		exit 1
	fi
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "build/fuzz/$name.log" | sed 's/^/  /'
done
