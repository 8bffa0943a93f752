#!/bin/bash
# List the Go toolchains the tests build with, fetching the missing ones.
#
# Prints one line per toolchain on stdout, oldest first:
#     go1.19.8<TAB>/usr/lib/go-1.19/bin/go
# and on stderr which ones it uses and which it could not get.
#
# Sources:
#   - the machine's newest Go (/usr/local/go/bin/go, else `go` on PATH);
#   - Debian's Go 1.19 (/usr/lib/go-1.19/bin/go, installed by scripts/deps.sh);
#   - released toolchains through the Go module proxy, one per pclntab / ABI
#     generation (module golang.org/toolchain, as GOTOOLCHAIN fetches them).
#     They land in the default GOMODCACHE, so every clone on the machine
#     shares them; a toolchain that can't be fetched is left out with a note.
#     1.15 and 1.16 write the older pclntab formats and are used for parsing
#     tests only.
#
# Environment:
#   GOTRACE_TOOLCHAINS=quick   only the newest Go and Debian's 1.19 (no fetch)
#   GOTRACE_TOOLCHAINS=offline everything already on the machine, no fetch
#   GOTRACE_GO_VERSIONS="1.21.13 1.27.4"   override the fetched set
#
# Old toolchains reject the GOFLAGS in ~/.config/go/env (-buildvcs): every
# toolchain here is run with GOENV=off GOFLAGS= GOTOOLCHAIN=local, and so
# should its callers (scripts/build-testprogs.sh does).
set -uo pipefail

FETCH_VERSIONS=(${GOTRACE_GO_VERSIONS:-1.15.15 1.16.15 1.17.13 1.18.10 1.20.14 1.21.13 1.22.12 1.23.12 1.24.13 1.25.14 1.27.4})
MODE=${GOTRACE_TOOLCHAINS:-all}
HOSTARCH=$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')

note() { echo "toolchains: $*" >&2; }

# `go version` of one toolchain binary: prints go1.X.Y or nothing.
go_version() {
	GOENV=off GOFLAGS= GOTOOLCHAIN=local "$1" version 2>/dev/null |
		awk '$1 == "go" && $2 == "version" { print $3; exit }'
}

# The go command we fetch with: any recent one (module-aware `go mod download`
# of a version outside a module needs Go >= 1.16).
NEWEST=
for c in /usr/local/go/bin/go "$(command -v go 2>/dev/null)"; do
	[ -n "$c" ] && [ -x "$c" ] && [ -n "$(go_version "$c")" ] && { NEWEST=$(readlink -f "$c"); break; }
done

# Fetch go1.$1 from the module proxy; print its bin/go path, or nothing.
fetch_one() {
	local v=$1 mod json dir
	mod="golang.org/toolchain@v0.0.1-go$v.linux-$HOSTARCH"
	# `go mod download` outside a module: run it from / so no go.mod is found.
	json=$(cd / && GOFLAGS= GOTOOLCHAIN=local GO111MODULE=on "$NEWEST" mod download -json "$mod" 2>&1)
	dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p' | head -1)
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		local why
		why=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' | head -1)
		note "go$v: cannot fetch $mod: ${why:-$(printf '%s' "$json" | tail -1)}"
		return 0
	fi
	# Module zips carry no mode bits: the extracted tree is read-only and its
	# programs are not executable.  Make them so (what GOTOOLCHAIN does too).
	if [ ! -x "$dir/bin/go" ] || [ ! -w "$dir" ]; then
		chmod -R u+w "$dir" 2>/dev/null
		chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/* 2>/dev/null
	fi
	if [ "$(go_version "$dir/bin/go")" != "go$v" ]; then
		note "go$v: $dir/bin/go does not run"
		return 0
	fi
	echo "$dir/bin/go"
}

# Already fetched?  (No network, no go command: just look in the cache.)
cached_one() {
	local v=$1 modcache dir
	modcache=$(GOFLAGS= "$NEWEST" env GOMODCACHE 2>/dev/null)
	dir="$modcache/golang.org/toolchain@v0.0.1-go$v.linux-$HOSTARCH"
	[ -x "$dir/bin/go" ] && [ "$(go_version "$dir/bin/go")" = "go$v" ] && echo "$dir/bin/go"
}

declare -A found   # version -> path

add() {
	local path=$1 v
	[ -n "$path" ] && [ -x "$path" ] || return 0
	v=$(go_version "$path")
	[ -n "$v" ] || { note "$path does not run"; return 0; }
	[ -n "${found[$v]:-}" ] || found[$v]=$(readlink -f "$path")
}

[ -n "$NEWEST" ] && add "$NEWEST" || note "no Go on PATH or in /usr/local/go"
add /usr/lib/go-1.19/bin/go
[ -x /usr/lib/go-1.19/bin/go ] || note "no /usr/lib/go-1.19/bin/go (run scripts/deps.sh)"

if [ "$MODE" != quick ] && [ -n "$NEWEST" ]; then
	todo=()
	for v in "${FETCH_VERSIONS[@]}"; do
		[ -n "${found[go$v]:-}" ] && continue
		p=$(cached_one "$v")
		if [ -n "$p" ]; then
			add "$p"
		elif [ "$MODE" != offline ]; then
			todo+=("$v")
		fi
	done
	if ((${#todo[@]})); then
		note "fetching ${todo[*]} from the module proxy (2 at a time)"
		export -f fetch_one note go_version
		export NEWEST HOSTARCH
		while read -r p; do
			add "$p"
		done < <(printf '%s\n' "${todo[@]}" | xargs -P 2 -I{} bash -c 'fetch_one {}')
	fi
fi

# Oldest first (version sort on the numbers after "go").
for v in $(printf '%s\n' "${!found[@]}" | sort -V); do
	printf '%s\t%s\n' "$v" "${found[$v]}"
done
note "using $(printf '%s\n' "${!found[@]}" | sort -V | tr '\n' ' ')"
((${#found[@]})) || { note "no Go toolchain found"; exit 1; }
exit 0
