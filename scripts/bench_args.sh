#!/bin/bash
# The `gotrace funcgraph --args` benchmark (docs/args.md), sourced by
# scripts/bench.sh: the per-call cost of reading arguments and results,
# side by side with funcgraph without --args, in one run.
#
# testprogs/args -bench N calls three noinline functions N times each and
# times each loop itself:
#   scalars   benchScalars(a, b, c int) int
#   strslice  benchStrSlice(s string, b []byte) int   (23-byte string,
#             100-byte slice: 64 bytes of each read, --string-size)
#   ptr3      benchPtr3(n *Node) int                  (a 3-level linked
#             struct: with --args-depth 3, every level and its string)
# Each round runs, interleaved:
#   (a) the program alone
#   (b) gotrace funcgraph 'main.bench*'              (entry + RET probes)
#   (c) gotrace funcgraph --args 'main.bench*'       (default limits)
#   (d) gotrace funcgraph --args --args-depth 3 ...  (ptr3 followed to the end)
# and prints, per function, the median ns/call of each and the cost
# --args adds per call: c - b (and d - b).
#
# Knobs: BENCH_ARGS_CALLS (default 100000), BENCH_ARGS_RUNS (default 5),
# BENCH_ARGS_GO (go binary).

bench_args() {
	local root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	local build=${BUILD:-$root/build}
	local calls=${BENCH_ARGS_CALLS:-100000} runs=${BENCH_ARGS_RUNS:-5}
	local go=${BENCH_ARGS_GO:-$(command -v go || echo /usr/local/go/bin/go)}
	local gotrace=$build/gotrace tmp i v k

	if [ ! -x "$gotrace" ]; then
		echo "bench_args: $gotrace missing: run make all" >&2
		return 1
	fi
	tmp=$(mktemp -d /tmp/bench-args.XXXXXX) || return 1
	if ! (cd "$root/testprogs/args" && GOFLAGS= "$go" build -o "$tmp/args" .); then
		rm -rf "$tmp"
		return 1
	fi
	# "args: bench KIND N calls in T ns" -> "KIND T"
	ns() { sed -n 's/^args: bench \([a-z0-9]*\) [0-9]* calls in \([0-9]*\) ns.*/\1 \2/p'; }
	for ((i = 0; i < runs; i++)); do
		"$tmp/args" -bench "$calls" | ns | sed 's/^/a /' >>"$tmp/all"
		"$gotrace" funcgraph -q --no-summary -o /dev/null 'main.bench*' \
			-- "$tmp/args" -bench "$calls" | ns | sed 's/^/b /' >>"$tmp/all"
		"$gotrace" funcgraph -q --no-summary -o /dev/null --args 'main.bench*' \
			-- "$tmp/args" -bench "$calls" | ns | sed 's/^/c /' >>"$tmp/all"
		"$gotrace" funcgraph -q --no-summary -o /dev/null --args --args-depth 3 'main.bench*' \
			-- "$tmp/args" -bench "$calls" | ns | sed 's/^/d /' >>"$tmp/all"
	done
	rm -f "$tmp/args"
	if [ "$(wc -l <"$tmp/all")" -ne $((runs * 12)) ]; then
		echo "bench_args: a run failed:" >&2
		cat "$tmp/all" >&2
		rm -rf "$tmp"
		return 1
	fi
	echo "args: $calls calls per function, median of $runs interleaved rounds, ns/call"
	printf 'args: %-9s %9s %9s %9s %9s %10s %10s\n' function plain funcgraph "+args" "+depth3" \
		"args cost" "depth3 cost"
	for k in scalars strslice ptr3; do
		for v in a b c d; do
			awk -v v="$v" -v k="$k" -v n="$calls" '$1 == v && $2 == k { print $3 / n }' \
				"$tmp/all" | sort -n | awk '{x[NR]=$1} END {print x[int((NR+1)/2)]}' \
				>"$tmp/$v"
		done
		awk -v k="$k" -v a="$(cat "$tmp/a")" -v b="$(cat "$tmp/b")" -v c="$(cat "$tmp/c")" \
		    -v d="$(cat "$tmp/d")" 'BEGIN {
			printf "args: %-9s %9.1f %9.1f %9.1f %9.1f %+10.1f %+10.1f\n", k, a, b, c, d,
			       c - b, d - b
		}'
	done
	rm -rf "$tmp"
}
