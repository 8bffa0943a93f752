#!/bin/bash
# Where `gotrace states`' overhead goes (docs/states.md, "Where the
# overhead goes").  Builds copies of gotrace with one piece of the
# per-transition work taken out, then runs the ping-pong benchmark of
# scripts/bench_states.sh with every copy side by side: each run takes
# (a) nothing attached, (b) the bare counting uprobe, then each copy
# (default mode, stream to a file), and the script prints the median of
# the per-run ratios (c-a)/(b-a) per copy.  The copies are measurement
# tools only: they lose data on purpose.
#
#   full      gotrace as built from HEAD
#   no-ts     the BPF program stores 0 instead of bpf_ktime_get_ns()
#   no-output the record goes to a per-CPU scratch slot, not the ring buffer
#   minimal   the program only takes a timestamp and sends a 16-byte record
#             (no goid, no wait reason, no cookie, no pid check)
#   no-model  the reader drains the ring buffer and drops every record
#
# Usage: scripts/bench_states_breakdown.sh [RUNS]   (default 9; as root)
# Knobs: BENCH_STATES_ROUNDS (default 200000), BENCH_STATES_GO.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-9}
rounds=${BENCH_STATES_ROUNDS:-200000}
go=${BENCH_STATES_GO:-$(command -v go || echo /usr/local/go/bin/go)}
tmp=$(mktemp -d /tmp/bench-breakdown.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

count=$root/build/bench/bench_states_count
[ -x "$count" ] || make -C "$root" -s build/bench/bench_states_count
(cd "$root/testprogs/states" && "$go" build -o "$tmp/states" .)

# variant NAME FILE OLD NEW [FILE OLD NEW...]: HEAD with each OLD text
# replaced by NEW (each must occur), built into $tmp/gotrace-NAME.
variant() {
	local name=$1 src=$tmp/src-$1
	shift
	mkdir -p "$src"
	git -C "$root" archive HEAD | tar -x -C "$src"
	python3 - "$src" "$@" <<'EOF'
import sys
src, args = sys.argv[1], sys.argv[2:]
for f, old, new in zip(args[0::3], args[1::3], args[2::3]):
    p = src + "/" + f
    s = open(p).read()
    if old not in s:
        sys.exit("bench_states_breakdown: %s no longer has %r: update the script" % (f, old))
    open(p, "w").write(s.replace(old, new, 1))
EOF
	echo "building $name..." >&2
	make -C "$src" -s -j2 build/gotrace >/dev/null
	cp "$src/build/gotrace" "$tmp/gotrace-$name"
	rm -rf "$src"
}

variant full
variant no-ts bpf/states.bpf.c '	r->ts_ns = bpf_ktime_get_ns();' '	r->ts_ns = 0;'
variant no-output bpf/states.bpf.c \
	'	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);' \
	'	__u32 zero = 0;
	r = bpf_map_lookup_elem(&scratch, &zero);' \
	bpf/states.bpf.c \
	'	r->flags = (__u8)flags;
	bpf_ringbuf_submit(r, submit_flags(RB_SPAN(sizeof(*r))));' \
	'	r->flags = (__u8)flags;' \
	bpf/states.bpf.c \
	'/* A record'"'"'s bytes' \
	'struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct states_rec);
} scratch SEC(".maps");
/* A record'"'"'s bytes'
variant minimal bpf/states.bpf.c \
	'static __always_inline int transition(struct pt_regs *ctx, bool with_stack)
{' \
	'static __always_inline int transition(struct pt_regs *ctx, bool with_stack)
{
	if (!with_stack) {
		__u64 *m = bpf_ringbuf_reserve(&events, 16, 0);

		if (!m)
			return 0;
		m[0] = bpf_ktime_get_ns();
		m[1] = REG_ARG0(ctx);
		bpf_ringbuf_submit(m, submit_flags(RB_SPAN(16)));
		return 0;
	}'
variant no-model gotrace/states/states.c \
	'	struct run *run = ctx;
	struct states_event e;
' \
	'	struct run *run = ctx;
	struct states_event e;

	if (len)
		return 0;
'

names=(full no-ts no-output minimal no-model)
pp() { sed -n 's/.*"event":"pingpong".*"ns":\([0-9]*\).*/\1/p' | head -1; }
for ((i = 0; i < runs; i++)); do
	line="$("$tmp/states" -pingpong "$rounds" | pp)"
	line="$line $("$count" "$tmp/states" -pingpong "$rounds" 2>/dev/null | pp)"
	for n in "${names[@]}"; do
		line="$line $("$tmp/gotrace-$n" states -o "$tmp/stream.txt" -- \
			"$tmp/states" -pingpong "$rounds" 2>/dev/null | pp)"
	done
	echo "$line"
	echo "run $((i + 1))/$runs: $line" >&2
done >"$tmp/runs"
python3 - "$tmp/runs" "${names[@]}" <<'EOF'
import statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
for j, name in enumerate(sys.argv[2:]):
    r = [(x[j + 2] - x[0]) / (x[1] - x[0]) for x in rows if x[1] > x[0]]
    print("states breakdown: %-9s (c-a)/(b-a) median %.2f  runs: %s"
          % (name, statistics.median(r), " ".join("%.2f" % v for v in r)))
EOF
