#!/bin/bash
# make screenshots: refresh the viewer screenshots in docs/images/.
#
# Runs the test that traces the test programs (testprogs/states,
# testprogs/funcgraph) and opens the exports in real viewers in headless
# Chromium (tests/integration/test_exports.py: test_real_traces_in_viewers,
# needs root for tracing, installs chromium / the npm viewers on first use),
# which writes build/screenshots/*-real.png; then copies those into
# docs/images/, shrunk with pngquant when it is installed (apt-get install
# pngquant; else copied as they are).  Needs `make all` and the test
# programs (make testprogs) first.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 tests/run.py -k test_real_traces_in_viewers
mkdir -p docs/images
n=0
for f in build/screenshots/*-real.png; do
	out=docs/images/$(basename "$f" -real.png).png
	if command -v pngquant >/dev/null; then
		# exit 99: the quality floor not met; keep the original then
		pngquant --force --quality 60-90 --strip --output "$out" -- "$f" || cp "$f" "$out"
	else
		cp "$f" "$out"
	fi
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "screenshots: no build/screenshots/*-real.png" >&2; exit 1; }
echo "screenshots: $n images in docs/images/ ($(du -ch docs/images/*.png | tail -1 | cut -f1))" >&2
