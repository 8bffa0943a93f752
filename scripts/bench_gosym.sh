#!/bin/bash
# Sourced by scripts/bench.sh: gosym open + lookup benchmark on the largest
# Go binaries on this machine (and the newest testprog build as a small
# reference).  Results are documented in docs/gosym.md.
bench_gosym() {
	local bins=() f
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
	"$BUILD/bench/bench_gosym" "${bins[@]}"
}
