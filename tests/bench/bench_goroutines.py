#!/usr/bin/env python3
"""gotrace goroutines on 100,000 goroutines, side by side with the target's
own runtime.Stack(buf, true), in one run (docs/goroutines.md, "Speed").

The target is testprogs/parked -n N -work: N goroutines parked in a channel
receive (plus the ~30 of the fixture) and one goroutine running a CPU loop
that reports how many iterations it made every 100 ms (CLOCK_MONOTONIC
stamps).  The target runs on CPU 0, gotrace and the control hog on CPU 1
(taskset), so that gotrace's own CPU time does not compete with the target
for a core: what remains is the cost of being read.  Rounds alternate
windows of the same length:

  idle     nothing else on CPU 1 from us;
  hog      a busy loop on CPU 1 (control: a CPU-bound neighbour that does
           not touch the target);
  gotrace  `gotrace goroutines -p PID > /dev/null` back to back on CPU 1:
           its wall time and CPU time (user + sys) per dump;
  stack    SIGUSR1: the process calls runtime.Stack(buf, true) itself
           (stop the world), which it times (stack_ns).

Reported: the medians over the rounds of the dump's wall and CPU time, of
runtime.Stack's time, and the target's loop rate during the gotrace
windows relative to the hog and idle windows of the same round.  The
machine is shared (other jobs run on both CPUs): read the rates as ratios
measured in the same run, never across runs.

Usage: bench_goroutines.py GOTRACE PARKED [N] [ROUNDS] [WINDOW_S]
"""
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time


def main():
    gotrace, parked = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    window = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0

    ncpu = os.cpu_count() or 1
    pin_target = ["taskset", "-c", "0"] if ncpu > 1 else []
    pin_reader = ["taskset", "-c", "1"] if ncpu > 1 else []
    p = subprocess.Popen(pin_target + [parked, "-n", str(n), "-work"], stdout=subprocess.PIPE,
                         text=True)
    ready = json.loads(p.stdout.readline())
    pid = ready["pid"]
    work, dumps = [], []  # (end_mono_ns, ops, ns), stack_ns
    lock = threading.Lock()

    def reader():
        for line in p.stdout:
            ev = json.loads(line)
            with lock:
                if ev["event"] == "work":
                    work.append((ev["end"], ev["ops"], ev["ns"]))
                elif ev["event"] == "dumped":
                    dumps.append(ev["stack_ns"])

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(1.0)

    def rate(t0, t1):
        """Loop iterations per second over the work reports ending in [t0, t1]."""
        with lock:
            sel = [(o, ns) for end, o, ns in work if t0 <= end <= t1]
        ops = sum(o for o, _ in sel)
        ns = sum(ns for _, ns in sel)
        return ops / (ns / 1e9) if ns else None

    idle, during, wall, cpu, ratios, vs_hog = [], [], [], [], [], []
    listed = None
    try:
        for r in range(rounds):
            t0 = time.monotonic_ns()
            time.sleep(window)
            t1 = time.monotonic_ns()
            ri = rate(t0, t1)
            hog = subprocess.Popen(pin_reader + ["sh", "-c", "while :; do :; done"])
            th = time.monotonic_ns()
            time.sleep(window)
            th1 = time.monotonic_ns()
            hog.kill()
            hog.wait()
            rh = rate(th, th1)
            t2 = time.monotonic_ns()
            while time.monotonic_ns() - t2 < window * 1e9:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                s = time.monotonic_ns()
                q = subprocess.run(pin_reader + [gotrace, "goroutines", "-p", str(pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                wall.append((time.monotonic_ns() - s) / 1e6)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1e3)
                if q.returncode:
                    sys.exit("gotrace failed: " + q.stderr)
                if listed is None:
                    for line in q.stderr.splitlines():
                        if " listed " in line:
                            listed = line
            t3 = time.monotonic_ns()
            rd = rate(t2, t3)
            # runtime.Stack(all) in the target, then an idle pause
            p.send_signal(signal.SIGUSR1)
            time.sleep(window)
            if ri and rd and rh:
                idle.append(ri)
                during.append(rd)
                ratios.append(rd / ri)
                vs_hog.append(rd / rh)
    finally:
        p.kill()
        p.wait()
    med = statistics.median
    print("goroutines: %s" % (listed.split("goroutines: ", 1)[1] if listed else "?"))
    print("gotrace goroutines dump: wall %.0f ms (median of %d; min %.0f, max %.0f), CPU %.0f ms"
          % (med(wall), len(wall), min(wall), max(wall), med(cpu)))
    if dumps:
        print("target runtime.Stack(buf, true): %.0f ms (median of %d; min %.0f, max %.0f), world stopped"
              % (med(dumps) / 1e6, len(dumps), min(dumps) / 1e6, max(dumps) / 1e6))
        print("ratio gotrace wall / runtime.Stack: %.2f" % (med(wall) / (med(dumps) / 1e6)))
    if ratios:
        print("target loop rate while gotrace reads it / with the hog instead: %.3f (median of %d rounds: %s)"
              % (med(vs_hog), len(vs_hog), " ".join("%.3f" % x for x in vs_hog)))
        print("target loop rate while gotrace reads it / idle: %.3f (median of %d rounds: %s)"
              % (med(ratios), len(ratios), " ".join("%.3f" % x for x in ratios)))
        print("  idle %.3g ops/s, during %.3g ops/s (medians)" % (med(idle), med(during)))


if __name__ == "__main__":
    main()
