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
# One result line per target (tests/run.py --fuzz reads them):
#   PASS: fuzz_gosym: N runs in S s, peak RSS M MB
#   FAIL: fuzz_gosym: crash/leak/sanitizer report (log: ...)
failed=0 ran=0
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
	ran=$((ran + 1))
	if ! "$f" -max_total_time="$SECS" -max_len=8388608 -rss_limit_mb=4096 -timeout=20 \
		-artifact_prefix=build/fuzz/crashes/ -print_final_stats=1 "$corpus" "$seeds" \
		> "build/fuzz/$name.log" 2>&1; then
		tail -n 40 "build/fuzz/$name.log" | sed 's/^/    /'
		echo "FAIL: $name: crash, leak or sanitizer report (log: build/fuzz/$name.log, inputs in build/fuzz/crashes/)"
		failed=1
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build/fuzz/$name.log")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "build/fuzz/$name.log")
	if [ -z "$runs" ] || [ "$runs" -eq 0 ]; then
		echo "FAIL: $name: executed no input (log: build/fuzz/$name.log)"
		failed=1
		continue
	fi
	echo "PASS: $name: $runs runs in ${SECS}s, peak RSS ${rss:-?} MB"
done
if [ "$ran" -eq 0 ]; then
	echo "FAIL: fuzz: no fuzz target in build/fuzz (make build/fuzz/fuzz_...)"
	exit 1
fi
exit $failed
