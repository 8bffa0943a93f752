#!/bin/bash
# make bench: run every benchmark family.  Each scripts/bench_<name>.sh
# defines a function bench_<name> (sourced here, then called in name
# order); a family that fails is reported and the others still run.
# Results go to stdout; each family says where its numbers are documented.
#
# Environment: BUILD (default build), any BENCH_* knobs the families read.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
export BUILD=${BUILD:-$ROOT/build}
status=0

for f in "$ROOT"/scripts/bench_*.sh; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .sh)
	# shellcheck disable=SC1090
	source "$f"
	if ! declare -F "$name" >/dev/null; then
		echo "bench: $f defines no function $name" >&2
		status=1
		continue
	fi
	echo "== $name"
	if ! "$name"; then
		echo "bench: $name failed" >&2
		status=1
	fi
done
exit $status
