// gotrace:min-go 1.17

// Command groups is the fixture of `gotrace states -p PID` with --group and
// the latency view (issue 17): goroutines of known kinds, in known
// numbers, started before a tracer attaches and after, some blocked for
// the whole trace, some with pprof labels, and two measurements the
// program makes about itself: the length of its sleeps, and, for a series
// of handoffs, when it made a goroutine runnable and when that goroutine
// ran.
//
// Usage: groups        (driven by lines on stdin)
//
//  1. At start it makes the "before" goroutines, waits until they are
//     parked, runs a GC (so the runtime records since when they wait), and
//     prints {"event":"ready","pid":N,"go":"go1.x"} and one
//     {"event":"kind","func":F,"count":N,"phase":"before",...} per kind.
//  2. On a line on stdin (a tracer has attached meanwhile), the "after"
//     phase: the exiters are released, the sleepers sleep and measure, the
//     late goroutines are made, the handoffs run; then it prints its
//     measurements and {"event":"done"}.
//  3. On end of input (or a second line) it exits.
//
// Every goroutine starts with a `go F()` statement without arguments, so
// its start function is F in every Go release (no wrapper, no closure).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// goid parses the current goroutine's id from its stack trace header.
func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		panic("cannot parse goroutine id: " + err.Error())
	}
	return id
}

var outMu sync.Mutex

func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	outMu.Lock()
	fmt.Println(string(b))
	outMu.Unlock()
}

// The clock of the runtime (and of bpf_ktime_get_ns): CLOCK_MONOTONIC.
// Read once through the system call, then advanced with the monotonic
// reading time.Since uses, so a reading costs no system call.
var monoBase int64
var timeBase time.Time

func initClock() {
	var ts syscall.Timespec
	timeBase = time.Now()
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	monoBase = ts.Nano()
}

func mono() int64 { return monoBase + int64(time.Since(timeBase)) }

var (
	never   = make(chan struct{}) // nobody ever sends
	release = make(chan struct{}) // closed in phase 2: the exiters return
	startSl = make(chan struct{}) // closed in phase 2: the sleepers sleep
	heldMu  sync.Mutex            // held by main for ever
	sleepWG sync.WaitGroup
	lateWG  sync.WaitGroup

	relabelGo = make(chan struct{}) // closed in phase 2: the relabelers set labels
	relabelWG sync.WaitGroup
)

//go:noinline
func parkForever() { <-never }

//go:noinline
func lockWaiter() { heldMu.Lock() }

//go:noinline
func exiter() { <-release }

const sleepFor = 5 * time.Millisecond
const sleeps = 20

//go:noinline
func sleeper() {
	<-startSl
	id := goid()
	got := make([]int64, 0, sleeps)
	for i := 0; i < sleeps; i++ {
		t := mono()
		time.Sleep(sleepFor)
		got = append(got, mono()-t)
	}
	emit(map[string]interface{}{"event": "sleeps", "goid": id, "who": "sleeper",
		"requested_ns": int64(sleepFor), "measured_ns": got})
	sleepWG.Done()
	<-never
}

//go:noinline
func labeledA() {
	pprof.Do(context.Background(), pprof.Labels("tenant", "a"), func(context.Context) { <-never })
}

//go:noinline
func labeledB() {
	pprof.Do(context.Background(), pprof.Labels("tenant", "b"), func(context.Context) { <-never })
}

var sink int

//go:noinline
func lateWorker() {
	for i := 0; i < 100000; i++ {
		sink += i
	}
	lateWG.Done()
}

//go:noinline
func lateBlocked() { <-never }

// Made before the attach without labels; in phase 2 it sets tenant=d
// (while traced) and blocks for ever: its labels are only known from its
// g at the end, never from a creation or an exit.
//go:noinline
func relabeler() {
	<-relabelGo
	pprof.Do(context.Background(), pprof.Labels("tenant", "d"), func(context.Context) {
		relabelWG.Done()
		<-never
	})
}

// made inside pprof.Do: it inherits tenant=c
//go:noinline
func lateLabeled() { <-never }

type kind struct {
	fn    func()
	name  string
	count int
}

var before = []kind{
	{parkForever, "main.parkForever", 7},
	{lockWaiter, "main.lockWaiter", 3},
	{exiter, "main.exiter", 6},
	{sleeper, "main.sleeper", 4},
	{labeledA, "main.labeledA", 3},
	{labeledB, "main.labeledB", 1},
	{relabeler, "main.relabeler", 2},
}

// One go statement per kind, each on its own line (the tests read the
// lines of the go statements from this file: `go F()`).
func startBefore() {
	for i := 0; i < 7; i++ {
		go parkForever()
	}
	for i := 0; i < 3; i++ {
		go lockWaiter()
	}
	for i := 0; i < 6; i++ {
		go exiter()
	}
	for i := 0; i < 4; i++ {
		go sleeper()
	}
	for i := 0; i < 3; i++ {
		go labeledA()
	}
	go labeledB()
	for i := 0; i < 2; i++ {
		go relabeler()
	}
}

// ---- handoffs: the scheduler latency the program measures itself ----

// Spin times of the waker after readying the sleeper, in handoff order:
// with one P the sleeper waits runnable that long.  The counts put the
// 50th, 90th and 99th percentiles in the middle of a plateau.
var spinPlan = []struct {
	d time.Duration
	n int
}{
	{20 * time.Microsecond, 60},
	{100 * time.Microsecond, 80},
	{400 * time.Microsecond, 54},
	{1500 * time.Microsecond, 5},
	{4 * time.Millisecond, 1},
}

var (
	ping    = make(chan int)
	ack     = make(chan struct{})
	readyAt []int64 // by handoff: before the send that readies the sleeper
	ranAt   []int64 // by handoff: when the sleeper ran
	spins   []time.Duration
	hoIDs   = make(chan int64, 2)
	hoDone  = make(chan struct{})
)

//go:noinline
func handoffSleeper() {
	hoIDs <- goid()
	for i := range ping {
		ranAt[i] = mono()
		ack <- struct{}{}
	}
	close(hoDone)
}

//go:noinline
func handoffWaker() {
	hoIDs <- goid()
	for i, d := range spins {
		// A fresh time slice for each handoff: the sleeper and the waker
		// hand the P to each other through runnext, which inherits the
		// slice, and sysmon preempts a slice older than 10ms: without this
		// the later, longer spins would be cut short by a preemption.
		runtime.Gosched()
		readyAt[i] = mono()
		ping <- i // the sleeper is parked on ping: now runnable
		for end := readyAt[i] + int64(d); mono() < end; {
		}
		<-ack // parks the waker: the sleeper runs
	}
	close(ping)
}

func handoffs() {
	for _, p := range spinPlan {
		for i := 0; i < p.n; i++ {
			spins = append(spins, p.d)
		}
	}
	readyAt = make([]int64, len(spins))
	ranAt = make([]int64, len(spins))
	// One P: the readied sleeper waits in runnext until the waker parks
	// (with more Ps an idle one would steal it at once).
	old := runtime.GOMAXPROCS(1)
	go handoffSleeper()
	sid := <-hoIDs
	t := mono()
	time.Sleep(10 * time.Millisecond) // parked on ping
	// main's sleep is the process's 81st: timed like the sleepers'
	emit(map[string]interface{}{"event": "sleeps", "goid": goid(), "who": "main",
		"requested_ns": int64(10 * time.Millisecond), "measured_ns": []int64{mono() - t}})
	go handoffWaker()
	wid := <-hoIDs
	<-hoDone
	runtime.GOMAXPROCS(old)
	for i := range spins {
		emit(map[string]interface{}{"event": "handoff", "i": i, "goid": sid, "waker": wid,
			"spin_ns": int64(spins[i]), "ready_ns": readyAt[i], "ran_ns": ranAt[i]})
	}
}

func phase2() {
	close(release)
	sleepWG.Add(4)
	close(startSl)
	sleepWG.Wait()
	relabelWG.Add(2)
	close(relabelGo)
	relabelWG.Wait()
	lateWG.Add(9)
	for i := 0; i < 9; i++ {
		go lateWorker()
	}
	for i := 0; i < 2; i++ {
		go lateBlocked()
	}
	pprof.Do(context.Background(), pprof.Labels("tenant", "c"), func(context.Context) {
		for i := 0; i < 2; i++ {
			go lateLabeled()
		}
	})
	lateWG.Wait()
	handoffs()
	for _, k := range []kind{{lateWorker, "main.lateWorker", 9}, {lateBlocked, "main.lateBlocked", 2},
		{lateLabeled, "main.lateLabeled", 2}, {handoffSleeper, "main.handoffSleeper", 1},
		{handoffWaker, "main.handoffWaker", 1}} {
		emit(map[string]interface{}{"event": "kind", "func": k.name, "count": k.count, "phase": "after"})
	}
}

func main() {
	initClock()
	heldMu.Lock()
	base := runtime.NumGoroutine()
	started := mono()
	startBefore()
	want := base
	for _, k := range before {
		want += k.count
	}
	for i := 0; i < 5000 && runtime.NumGoroutine() < want; i++ {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // all parked
	// g.waitsince: a GC's stack scan sets it to work.tstart, which a GC
	// only sets at its own mark termination: the scan writes the previous
	// GC's time, 0 before any GC ended (docs/go-runtime.md).  The second
	// GC records gc1's time, after every goroutine above had parked.
	runtime.GC()
	gc1 := mono()
	runtime.GC()
	emit(map[string]interface{}{"event": "ready", "pid": os.Getpid(), "go": runtime.Version(),
		"started_ns": started, "gc1_ns": gc1, "ready_ns": mono()})
	for _, k := range before {
		emit(map[string]interface{}{"event": "kind", "func": k.name, "count": k.count, "phase": "before"})
	}
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		return
	}
	emit(map[string]interface{}{"event": "go", "go_ns": mono()})
	phase2()
	emit(map[string]interface{}{"event": "done"})
	in.ReadString('\n')
}
