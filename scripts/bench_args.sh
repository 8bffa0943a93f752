#!/bin/bash
# The `gotrace funcgraph --args` benchmark (docs/args.md), sourced by
# scripts/bench.sh: the per-call cost of reading arguments and results,
# side by side with funcgraph without --args, in one run.
#
# testprogs/args -bench N calls three noinline functions N times each and
# times each loop itself:
#   scalars   benchScalars(a, b, c int) int
#   strslice  benchStrSlice(s string, b []byte) int   (a 23-byte string and
#             a 100-byte slice: 64 bytes of the slice read, --string-size)
#   ptr3      benchPtr3(n *Node) int                  (a 3-level linked
#             struct: --args-depth 3 follows every level and its string)
# Each round runs, interleaved, for each function traced alone:
#   (a) the program alone (once per round)
#   (b) gotrace funcgraph FUNC                        (entry + RET probes)
#   (c) gotrace funcgraph --args FUNC                 (default limits)
#   (d) gotrace funcgraph --args --args-depth 3 FUNC
# all with --bench-timing, which adds up the BPF program's own time per
# probe hit and the reader's CPU per event (robust on a busy machine,
# unlike the wall time per call, which is printed too).  Medians of the
# rounds.
#
# Knobs: BENCH_ARGS_CALLS (default 100000), BENCH_ARGS_RUNS (default 5),
# BENCH_ARGS_GO (go binary).

bench_args() {
	local root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	local build=${BUILD:-$root/build}
	local calls=${BENCH_ARGS_CALLS:-100000} runs=${BENCH_ARGS_RUNS:-5}
	local go=${BENCH_ARGS_GO:-$(command -v go || echo /usr/local/go/bin/go)}
	local gotrace=$build/gotrace tmp i v k fn out

	if [ ! -x "$gotrace" ]; then
		echo "bench_args: $gotrace missing: run make all" >&2
		return 1
	fi
	tmp=$(mktemp -d /tmp/bench-args.XXXXXX) || return 1
	if ! (cd "$root/testprogs/args" && GOFLAGS= "$go" build -o "$tmp/args" .); then
		rm -rf "$tmp"
		return 1
	fi
	declare -A func=([scalars]=main.benchScalars [strslice]=main.benchStrSlice [ptr3]=main.benchPtr3)
	declare -A opts=([b]="" [c]="--args" [d]="--args --args-depth 3")
	# one line per measure: "VARIANT KIND wall|bpf|reader NS"
	for ((i = 0; i < runs; i++)); do
		"$tmp/args" -bench "$calls" |
			sed -n 's/^args: bench \([a-z0-9]*\) [0-9]* calls in \([0-9]*\) ns.*/a \1 wall \2/p' \
			>>"$tmp/all"
		for k in scalars strslice ptr3; do
			for v in b c d; do
				# shellcheck disable=SC2086
				out=$("$gotrace" funcgraph -q --no-summary --bench-timing -o /dev/null \
					${opts[$v]} "${func[$k]}" -- "$tmp/args" -bench "$calls" 2>&1)
				sed -n "s/^args: bench $k [0-9]* calls in \([0-9]*\) ns.*/$v $k wall \1/p" \
					<<<"$out" >>"$tmp/all"
				sed -n "s/.*bench-timing: [0-9]* probe hits, \([0-9.]*\) ns each in BPF; [0-9]* events, \([0-9.]*\) ns.*/$v $k bpf \1\n$v $k reader \2/p" \
					<<<"$out" >>"$tmp/all"
			done
		done
	done
	rm -f "$tmp/args"
	if [ "$(wc -l <"$tmp/all")" -ne $((runs * 30)) ]; then
		echo "bench_args: a run failed:" >&2
		cat "$tmp/all" >&2
		rm -rf "$tmp"
		return 1
	fi
	med() {
		awk -v v="$1" -v k="$2" -v m="$3" -v n="$4" '$1 == v && $2 == k && $3 == m { print $4 / n }' \
			"$tmp/all" | sort -n | awk '{x[NR]=$1} END {print x[int((NR+1)/2)]}'
	}
	echo "args: $calls calls per function, medians of $runs interleaved rounds"
	echo "args: (a) plain, (b) funcgraph, (c) --args, (d) --args --args-depth 3"
	printf 'args: %-9s %-28s %-26s %s\n' "" "wall ns/call: a / b / c / d" \
		"BPF ns/probe hit: b / c / d" "reader ns/event: b / c / d"
	for k in scalars strslice ptr3; do
		printf 'args: %-9s %6.1f %7.0f %7.0f %7.0f   %6.0f %6.0f %6.0f     %6.0f %6.0f %6.0f\n' "$k" \
			"$(med a $k wall "$calls")" "$(med b $k wall "$calls")" \
			"$(med c $k wall "$calls")" "$(med d $k wall "$calls")" \
			"$(med b $k bpf 1)" "$(med c $k bpf 1)" "$(med d $k bpf 1)" \
			"$(med b $k reader 1)" "$(med c $k reader 1)" "$(med d $k reader 1)"
	done
	rm -rf "$tmp"
}
