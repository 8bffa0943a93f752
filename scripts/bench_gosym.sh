#!/bin/bash
# Sourced by scripts/bench.sh: gosym open + lookup benchmark on the three
# largest Go binaries on this machine.  Results are documented in
# docs/gosym.md.
#
# BENCH_GOSYM_BASELINE=<git rev>: also build that revision's libgosym and
# bench_gosym (from git, into a temporary directory) and run it on the same
# binaries, alternating old and new per binary, so the comparison is side by
# side on the same machine state.
bench_gosym() {
	local bins=() f old="" tmp=""
	for f in /usr/local/bin/* /usr/bin/* /usr/local/go/bin/* /usr/local/go/pkg/tool/*/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		# Go binaries carry a .go.buildinfo section.
		readelf -S "$f" 2>/dev/null | grep -q '\.go\.buildinfo' && bins+=("$(stat -c '%s %n' "$f")")
	done
	mapfile -t bins < <(printf '%s\n' "${bins[@]}" | sort -rn | head -n 3 | cut -d' ' -f2-)
	if ((${#bins[@]} == 0)); then
		echo "bench_gosym: no Go binaries found on this machine" >&2
		return 1
	fi
	if [ -n "${BENCH_GOSYM_BASELINE:-}" ]; then
		tmp=$(mktemp -d)
		if ! git -C "$ROOT" archive "$BENCH_GOSYM_BASELINE" gosym tests/bench/bench_gosym.c |
			tar -x -C "$tmp" ||
			! ${CC:-gcc} -O2 -std=c11 -D_GNU_SOURCE -fno-strict-aliasing -I"$tmp/gosym" \
				-o "$tmp/bench_gosym" "$tmp/tests/bench/bench_gosym.c" "$tmp"/gosym/*.c \
				-lelf -ldw -lz; then
			echo "bench_gosym: can't build baseline $BENCH_GOSYM_BASELINE" >&2
			rm -rf "$tmp"
			return 1
		fi
		old=$tmp/bench_gosym
	fi
	local status=0
	for f in "${bins[@]}"; do
		if [ -n "$old" ]; then
			echo "-- baseline $BENCH_GOSYM_BASELINE"
			"$old" "$f" || status=1
			echo "-- this tree"
		fi
		"$BUILD/bench/bench_gosym" "$f" || status=1
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
	return $status
}
