#!/bin/bash
# The real-server benchmark (docs/probes.md), sourced by scripts/bench.sh:
# a third-party Go HTTP server under a load generator, side by side in one
# run, untraced and under each gotrace command, on loopback only.
#
#   server  Caddy (github.com/caddyserver/caddy/v2, pinned below), built
#           from the Go module proxy with `go install` into
#           build/bench-server/ (kept: later runs reuse it), serving a
#           static response from its HTTP handler package
#           (modules/caddyhttp) on 127.0.0.1, admin API off.
#   load    wrk (Debian's package; installed with apt-get when missing),
#           BENCH_SRV_CONNS connections for BENCH_SRV_SECONDS per row.
#   rows    untraced, `gotrace states -p`, `gotrace funcgraph -p` on the
#           handler package, and the same funcgraph probes running an empty
#           BPF program (--bench-floor: what the probes alone cost); both
#           again with the entry probes at each function's first instruction
#           (GOTRACE_BENCH_SITES=start, the placement before
#           docs/probes.md).  A row may start with VAR=value words.  Then
#           the in-kernel aggregation commands: funccount and funclatency
#           on the same package (with funccount's floor: its entry sites
#           running an empty BPF program, GOTRACE_BENCH_SITES=entry-only
#           funcgraph --bench-floor), states --aggregate.
#           Each round runs every row once; the median of the rounds is
#           reported.
#   report  requests per second (wrk), the server's CPU per 1,000 requests
#           (utime+stime from /proc/PID/stat), probe hits per request (the
#           tracer's own event count), and the per-hit floor of each probe
#           class on this machine from `gotrace doctor --json` in the same
#           run.
#
# Knobs: BENCH_SRV_SECONDS (default 5), BENCH_SRV_CONNS (8), BENCH_SRV_ROUNDS
# (2), BENCH_SRV_GO (go binary), BENCH_SRV_PORT (default: a free one),
# BENCH_SRV_ROWS (an extended regular expression: only the rows whose label
# matches, e.g. '^(untraced|gotrace states)' for states against states
# --aggregate), BENCH_BASELINE_GOTRACE=PATH (another gotrace binary, e.g. an
# older commit's build: its states and states --aggregate rows run in the
# same rounds, labelled "baseline").

BENCH_SRV_MODULE=github.com/caddyserver/caddy/v2
BENCH_SRV_VERSION=v2.11.9
BENCH_SRV_PKG='github.com/caddyserver/caddy/v2/modules/caddyhttp.*'

# The server binary, built once per version into build/bench-server/.
bench_server_build() {
	local dir=$1 go=$2
	[ -x "$dir/caddy" ] && return 0
	mkdir -p "$dir" || return 1
	echo "bench_server: building caddy $BENCH_SRV_VERSION from the Go module proxy (once)" >&2
	(cd "$dir" && GOTOOLCHAIN=local GOFLAGS= GOBIN="$dir" \
		"$go" install "$BENCH_SRV_MODULE/cmd/caddy@$BENCH_SRV_VERSION") >&2
}

bench_server_wrk() {
	command -v wrk >/dev/null && return 0
	echo "bench_server: installing wrk (Debian)" >&2
	{ apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; } \
		>/dev/null 2>&1
	command -v wrk >/dev/null || { echo "bench_server: no wrk and cannot install it" >&2; return 1; }
}

# utime+stime of a process, in clock ticks.
bench_server_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null
}

# One row: start the tracer (unless "untraced"), load the server, stop the
# tracer.  Prints "reqs_per_s cpu_ms_per_1k hits_per_req".
bench_server_row() {
	local gotrace=$1 pid=$2 url=$3 secs=$4 conns=$5 tmp=$6 row=$7
	shift 7
	local tpid="" t0 t1 out reqs rps hits i
	if [ "$row" != untraced ]; then
		: >"$tmp/row.err"
		local envv=(GOTRACE_NOTHING=) bin=$gotrace
		while [[ $1 == *=* ]]; do
			# GOTRACE_BIN=PATH: this row runs another gotrace binary
			if [[ $1 == GOTRACE_BIN=* ]]; then bin=${1#GOTRACE_BIN=}; else envv+=("$1"); fi
			shift
		done
		# the command first, then -p: patterns and options follow it
		env "${envv[@]}" "$bin" "$1" -p "$pid" "${@:2}" >"$tmp/row.out" 2>"$tmp/row.err" &
		tpid=$!
		# attached once it says it is tracing (or gives up)
		for ((i = 0; i < 600; i++)); do
			grep -q "tracing" "$tmp/row.err" && break
			kill -0 "$tpid" 2>/dev/null || break
			sleep 0.1
		done
		if ! grep -q "tracing" "$tmp/row.err"; then
			echo "bench_server: $row did not attach:" >&2
			cat "$tmp/row.err" >&2
			kill -INT "$tpid" 2>/dev/null
			wait "$tpid" 2>/dev/null
			return 1
		fi
	fi
	t0=$(bench_server_ticks "$pid")
	out=$(wrk -t1 -c"$conns" -d"${secs}s" "$url" 2>&1)
	t1=$(bench_server_ticks "$pid")
	if [ -n "$tpid" ]; then
		kill -INT "$tpid" 2>/dev/null
		wait "$tpid" 2>/dev/null
	fi
	reqs=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$out")
	rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
	if [ -z "$reqs" ] || [ "$reqs" -eq 0 ]; then
		echo "bench_server: $row: wrk failed: $out" >&2
		return 1
	fi
	# the tracer's own count of probe hits: "N events" (funcgraph, states),
	# "N calls of M functions counted" (funccount), "N calls timed"
	# (funclatency: two hits per call), "N transitions, ... (aggregated in
	# BPF)" (states --aggregate)
	hits=$(sed -n -e 's/^[a-z]*:* *\([0-9][0-9]*\) events.*/\1/p' \
		-e 's/^[a-z]*:* *\([0-9][0-9]*\) calls of [0-9]* functions counted.*/\1/p' \
		-e 's/^[a-z]*:* *\([0-9][0-9]*\) calls timed.*/\1 * 2/p' \
		-e 's/^[a-z]*:* *\([0-9][0-9]*\) transitions, .*aggregated in BPF.*/\1/p' \
		"$tmp/row.err" 2>/dev/null | tail -1)
	hits=$((${hits:-0}))
	[ "$row" = untraced ] && hits=0
	# what the probes cost, by class (the tracer's attach line)
	[ "$row" = untraced ] || grep -m1 "attached" "$tmp/row.err" >"$tmp/row.attach"
	awk -v r="$reqs" -v rps="$rps" -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
		-v h="${hits:-0}" 'BEGIN { printf "%s %.1f %.1f\n", rps, t * 1000 / hz * 1000 / r, h / r }'
}

bench_server() {
	local root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	local build=${BUILD:-$root/build}
	local secs=${BENCH_SRV_SECONDS:-5} conns=${BENCH_SRV_CONNS:-8} rounds=${BENCH_SRV_ROUNDS:-2}
	local go=${BENCH_SRV_GO:-$(command -v go || echo /usr/local/go/bin/go)}
	local dir=$build/bench-server/caddy-$BENCH_SRV_VERSION gotrace=$build/gotrace
	local port=${BENCH_SRV_PORT:-} tmp pid url r k cost status=0

	[ -x "$gotrace" ] || { echo "bench_server: $gotrace missing: run make all" >&2; return 1; }
	bench_server_wrk || return 1
	bench_server_build "$dir" "$go" || { echo "bench_server: cannot build caddy" >&2; return 1; }
	[ -n "$port" ] || port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	tmp=$(mktemp -d /tmp/bench-server.XXXXXX) || return 1
	url=http://127.0.0.1:$port/
	cat >"$tmp/caddy.json" <<EOF
{"admin": {"disabled": true},
 "logging": {"logs": {"default": {"level": "ERROR"}}},
 "apps": {"http": {"servers": {"bench": {"listen": ["127.0.0.1:$port"],
   "routes": [{"handle": [{"handler": "static_response", "body": "hello from caddy\n"}]}]}}}}}
EOF
	"$dir/caddy" run --config "$tmp/caddy.json" >"$tmp/caddy.log" 2>&1 &
	pid=$!
	for ((k = 0; k < 100; k++)); do
		curl -sf "$url" >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! curl -sf "$url" >/dev/null 2>&1; then
		echo "bench_server: caddy did not start:" >&2
		cat "$tmp/caddy.log" >&2
		kill "$pid" 2>/dev/null
		rm -rf "$tmp"
		return 1
	fi
	wrk -t1 -c"$conns" -d1s "$url" >/dev/null 2>&1	# warm up

	# Rows: "label|gotrace arguments" (the pid is added).
	local rows=(
		"untraced|"
		"gotrace states|states --no-summary -o /dev/null"
		"gotrace funcgraph $BENCH_SRV_PKG|funcgraph --yes --no-summary -o /dev/null $BENCH_SRV_PKG"
		"  its probes, empty BPF program|funcgraph --yes --no-summary --bench-floor -o /dev/null $BENCH_SRV_PKG"
		# the entry probes at the first instruction, as before docs/probes.md
		"  entries at +0 (before)|GOTRACE_BENCH_SITES=start funcgraph --yes --no-summary -o /dev/null $BENCH_SRV_PKG"
		"  entries at +0, empty BPF program|GOTRACE_BENCH_SITES=start funcgraph --yes --no-summary --bench-floor -o /dev/null $BENCH_SRV_PKG"
		# in-kernel aggregation (docs/funccount.md, docs/funclatency.md)
		"gotrace funccount $BENCH_SRV_PKG|funccount --yes -o /dev/null $BENCH_SRV_PKG"
		# funccount's floor: the same entry sites running an empty program
		"  its entry probes, empty BPF program|GOTRACE_BENCH_SITES=entry-only funcgraph --yes --no-summary --bench-floor -o /dev/null $BENCH_SRV_PKG"
		"gotrace funclatency $BENCH_SRV_PKG|funclatency --yes -o /dev/null $BENCH_SRV_PKG"
		"gotrace states --aggregate|states --aggregate --no-summary -o /dev/null"
		"gotrace states --aggregate --group|states --aggregate --group --no-summary -o /dev/null"
	)
	if [ -n "${BENCH_BASELINE_GOTRACE:-}" ]; then
		rows+=("baseline states|GOTRACE_BIN=$BENCH_BASELINE_GOTRACE states --no-summary -o /dev/null"
		       "baseline states --aggregate|GOTRACE_BIN=$BENCH_BASELINE_GOTRACE states --aggregate --no-summary -o /dev/null")
	fi
	if [ -n "${BENCH_SRV_ROWS:-}" ]; then
		local kept=() row
		for row in "${rows[@]}"; do
			[[ ${row%%|*} =~ $BENCH_SRV_ROWS ]] && kept+=("$row")
		done
		rows=("${kept[@]}")
	fi
	for ((r = 0; r < rounds; r++)); do
		for k in "${!rows[@]}"; do
			local label=${rows[$k]%%|*} args=${rows[$k]#*|} line
			# shellcheck disable=SC2086
			if ! line=$(bench_server_row "$gotrace" "$pid" "$url" "$secs" "$conns" "$tmp" \
				"$([ -z "$args" ] && echo untraced || echo "$label")" $args); then
				status=1
				continue
			fi
			echo "$line" >>"$tmp/row$k"
			[ -s "$tmp/row.attach" ] && cp "$tmp/row.attach" "$tmp/attach$k"
			rm -f "$tmp/row.attach"
		done
	done
	cost=$("$gotrace" doctor --json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin)["checks"]:
    if c["check"] == "probe-cost" and "emulated_ns" in c:
        print("%.2f %.2f" % (c["emulated_ns"] / 1e3, c["sstep_ns"] / 1e3))')
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null

	echo "server: caddy $BENCH_SRV_VERSION, static response, $conns connections, ${secs}s per row, median of $rounds rounds"
	printf "server: %-62s %10s %14s %10s\n" "run" "req/s" "CPU ms/1k req" "hits/req"
	for k in "${!rows[@]}"; do
		[ -s "$tmp/row$k" ] || continue
		sort -n -k1 "$tmp/row$k" | awk -v label="${rows[$k]%%|*}" '
			{ a[NR] = $1; c[NR] = $2; h[NR] = $3 }
			END { m = int((NR + 1) / 2)
			      printf "server: %-62s %10.0f %14.1f %10.1f\n", label, a[m], c[m], h[m] }'
	done
	for k in "${!rows[@]}"; do
		[ -s "$tmp/attach$k" ] && echo "server: ${rows[$k]%%|*}: $(sed 's/; tracing.*//' "$tmp/attach$k")"
	done
	if [ -n "$cost" ]; then
		read -r emu sst <<<"$cost"
		echo "server: per-hit floor here (gotrace doctor): emulated $emu us, single-stepped $sst us"
	fi
	rm -rf "$tmp"
	return $status
}
