#!/bin/bash
# make demo: build a bundled Go program, trace it with `gotrace states` from
# its first instruction, and write a Chrome trace for Perfetto UI /
# chrome://tracing / speedscope.  Then print where the files are.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/demo
mkdir -p "$OUT"
# The newest Go on the machine (toolchains.sh lists oldest first).
GO=$(bash scripts/toolchains.sh 2>/dev/null | tail -n1 | cut -f2 || true)
[ -x "$GO" ] || GO=$(command -v go || echo /usr/lib/go-1.19/bin/go)
echo "demo: building testprogs/goroutines with $("$GO" version)" >&2
(cd testprogs/goroutines && GOFLAGS=-buildvcs=false "$GO" build -o "../../$OUT/goroutines" .)

if [ "$(id -u)" != 0 ]; then
	echo "demo: tracing needs root (BPF + uprobes); run 'sudo make demo'" >&2
	exit 1
fi
echo "demo: gotrace states --json $OUT/trace.json -- $OUT/goroutines -n 16 -rounds 10" >&2
build/gotrace states --top 10 --json "$OUT/trace.json" --csv "$OUT/summary.csv" \
	-o "$OUT/states.txt" -- "$OUT/goroutines" -n 16 -rounds 10
if [ -f tests/lib/trace_validate.py ]; then
	python3 tests/lib/trace_validate.py "$OUT/trace.json"
fi
cat <<MSG

demo: done.
  $OUT/states.txt    live transitions and the per-goroutine summary
  $OUT/summary.csv   the summary as CSV
  $OUT/trace.json    Chrome trace: open it in https://ui.perfetto.dev (Open trace file),
                     chrome://tracing (Load), or speedscope
MSG
