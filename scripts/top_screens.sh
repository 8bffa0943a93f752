#!/bin/bash
# The two screens of docs/top.md, captured from a real terminal (tmux):
# gotrace top on testprogs/topmix -chan 6 -spin 2 -sys 3 -sleep 4, in a
# 100x30 window, after 6 s (goroutines), then g, End, k, Enter (groups by
# start function, the detail pane of main.chanBlocked).  Needs root (the
# probes), tmux, build/gotrace and the testprogs.
#
#   sudo bash scripts/top_screens.sh > /tmp/screens.txt
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GOTRACE=$ROOT/build/gotrace
MIX=${TOPMIX:-$(ls -d "$ROOT"/build/testprogs/go1.*/default/topmix | sort -V | tail -1)}
S=gotrace-top-screens-$$

"$MIX" -loop -chan 6 -spin 2 -sys 3 -sleep 4 >/dev/null &
PID=$!
trap 'tmux kill-session -t $S 2>/dev/null; kill $PID 2>/dev/null' EXIT
sleep 0.5
tmux new-session -d -s "$S" -x 100 -y 30 env TERM=xterm-256color bash --norc --noprofile
sleep 0.3
tmux send-keys -t "$S" "clear; $GOTRACE top -q -p $PID" Enter
sleep 6.2
tmux capture-pane -t "$S" -p
echo "----"
for k in g End k Enter; do
	tmux send-keys -t "$S" "$k"
	sleep 0.3
done
sleep 2
tmux capture-pane -t "$S" -p
tmux send-keys -t "$S" q
sleep 1
