// gotrace:min-go 1.15

// Command states is the fixture of `gotrace states`: worker goroutines that
// each block a known number of times for a known reason, time every block
// on the kernel's monotonic clock, and report their own goroutine ids, so
// a tracer's output (counts and times) can be checked against what the
// program says about itself.
//
// Usage: states [-n ROUNDS] [-wait-stdin] [-busy] [-loop] [-exit CODE] [-pingpong N]
//
//	-n ROUNDS    blocks per worker (default 10)
//	-wait-stdin  print the ready line, then wait for a line on stdin before
//	             starting the workers (a tracer attaches in between)
//	-busy        with -wait-stdin: before the ready line, start goroutines
//	             that are busy while a tracer attaches (below)
//	-loop        repeat the workload until killed
//	-exit CODE   exit with CODE after the OK line (tests exit status propagation)
//	-pingpong N  benchmark mode: two goroutines hand a token back and forth N
//	             times over unbuffered channels; prints the elapsed time
//
// Output, one JSON object per line:
//
//	{"event":"ready","pid":1234,"go":"go1.26.8"}
//	{"event":"worker","kind":"chan","goid":18,"blocks":10,"spans":[[t0,t1],...]}
//	... one per worker: chan, mutex, sleep, syscall ...
//	{"event":"ok","start":T,"end":T}
//
// kind says why the worker blocked: "chan" on an unbuffered channel receive,
// "mutex" on a contended sync.Mutex, "sleep" in time.Sleep, "syscall" in a
// blocking nanosleep(2) system call.  Each of the first three parks the
// goroutine (running -> waiting -> runnable -> running) exactly once per
// block: the goroutine that unblocks it (the chan feeder, the mutex holder)
// first waits until the runtime's own goroutine dump (runtime.Stack with
// all=true) shows the worker parked for that reason.  The syscall worker
// enters and leaves the syscall state once per nanosleep call; blocks
// counts the calls (a signal, e.g. the runtime's preemption signal, can
// interrupt one: it is retried, and its index is listed in "interrupted").
// Workers make no other system call (they report through main), so the
// syscall worker's syscall transitions are exactly its nanosleeps.
//
// Times: "spans" (n <= 50) holds, per block, the CLOCK_MONOTONIC time in ns
// just before and just after the blocking call ("pause_ns" is what sleep
// and syscall ask for); "start" and "end" on the ok line bracket the whole
// run.  The clock is read with a raw clock_gettime system call, which does
// not enter the runtime's syscall state.
//
// -busy starts, before the ready line: a "stuck" goroutine blocked in a
// channel receive until the workers are done, that then sleeps 3 times and
// reports {"event":"stuck","goid":G,"blocks":3,"spans":...,"released":T};
// and a "busy" goroutine that sleeps 1 ms in a loop (and a spinner that
// just burns CPU) while the tracer attaches; after the start line it makes
// exactly n more sleeps and reports {"event":"busy","goid":G,"blocks":n,
// "spans":...,"marked":T} (marked: when it began counting).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// goid parses the current goroutine's id from its stack trace header,
// "goroutine 18 [running]:".
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

// mono is CLOCK_MONOTONIC in ns, the clock of bpf_ktime_get_ns().  A raw
// system call: no entersyscall, so no state transition of its own.
func mono() int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

var outMu sync.Mutex

func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	outMu.Lock()
	fmt.Println(string(b))
	outMu.Unlock()
}

// The sleep of the sleep and syscall workers.
const pause = 2 * time.Millisecond

// maxSpans: longer runs don't report their spans.
const maxSpans = 50

// spans records [before, after] of each blocking call.
type spans [][2]int64

func (s *spans) add(t0, t1 int64, n int) {
	if n <= maxSpans {
		*s = append(*s, [2]int64{t0, t1})
	}
}

// The all-goroutines dump, big enough for this program's goroutines.
var dump = make([]byte, 1<<20)

// waitParked returns once goroutine id is parked for one of reasons, as
// the runtime's own goroutine dump says ("goroutine 18 [chan receive]:").
//
//go:noinline
func waitParked(id int64, reasons ...string) {
	head := []byte("\ngoroutine " + strconv.FormatInt(id, 10) + " [")
	for {
		d := dump[:runtime.Stack(dump, true)]
		if i := bytes.Index(d, head); i >= 0 {
			for _, r := range reasons {
				if bytes.HasPrefix(d[i+len(head):], []byte(r)) {
					return
				}
			}
		}
		time.Sleep(50 * time.Microsecond)
	}
}

type result = map[string]interface{}

//go:noinline
func chanWorker(n int, ch chan int, ids chan<- int64, res chan<- result, wg *sync.WaitGroup) {
	defer wg.Done()
	id := goid()
	ids <- id // buffered: never blocks
	var sp spans
	for i := 0; i < n; i++ {
		t0 := mono()
		<-ch
		sp.add(t0, mono(), n)
	}
	res <- result{"event": "worker", "kind": "chan", "goid": id, "blocks": n, "spans": sp}
}

//go:noinline
func chanFeeder(n int, ch chan int, ids <-chan int64) {
	w := <-ids
	for i := 0; i < n; i++ {
		waitParked(w, "chan receive")
		ch <- i
	}
}

//go:noinline
func mutexWorker(n int, mu *sync.Mutex, held, done chan struct{}, ids chan<- int64, res chan<- result, wg *sync.WaitGroup) {
	defer wg.Done()
	id := goid()
	ids <- id
	var sp spans
	for i := 0; i < n; i++ {
		<-held // the holder has locked mu
		t0 := mono()
		mu.Lock()
		sp.add(t0, mono(), n)
		mu.Unlock()
		done <- struct{}{}
	}
	res <- result{"event": "worker", "kind": "mutex", "goid": id, "blocks": n, "spans": sp}
}

//go:noinline
func mutexHolder(n int, mu *sync.Mutex, held, done chan struct{}, ids <-chan int64) {
	w := <-ids
	for i := 0; i < n; i++ {
		mu.Lock()
		held <- struct{}{}
		waitParked(w, "sync.Mutex.Lock", "semacquire") // semacquire before Go 1.20
		mu.Unlock()
		<-done
	}
}

//go:noinline
func sleepWorker(n int, res chan<- result, wg *sync.WaitGroup) {
	defer wg.Done()
	id := goid()
	var sp spans
	for i := 0; i < n; i++ {
		t0 := mono()
		time.Sleep(pause)
		sp.add(t0, mono(), n)
	}
	res <- result{"event": "worker", "kind": "sleep", "goid": id, "blocks": n, "spans": sp,
		"pause_ns": int64(pause)}
}

//go:noinline
func syscallWorker(n int, res chan<- result, wg *sync.WaitGroup) {
	defer wg.Done()
	id := goid()
	ts := syscall.NsecToTimespec(int64(pause))
	var sp spans
	calls, interrupted := 0, []int{}
	for i := 0; i < n; i++ {
		for {
			t0 := mono()
			err := syscall.Nanosleep(&ts, nil)
			sp.add(t0, mono(), n)
			calls++
			if err != syscall.EINTR {
				break
			}
			interrupted = append(interrupted, calls-1)
		}
	}
	res <- result{"event": "worker", "kind": "syscall", "goid": id, "blocks": calls, "spans": sp,
		"pause_ns": int64(pause), "interrupted": interrupted}
}

func workload(n int) {
	var wg sync.WaitGroup
	ch := make(chan int)
	var mu sync.Mutex
	held, done := make(chan struct{}), make(chan struct{})
	chanIDs, mutexIDs := make(chan int64, 1), make(chan int64, 1)
	res := make(chan result, 4) // buffered: workers never block reporting

	base := runtime.NumGoroutine()
	wg.Add(4)
	go chanWorker(n, ch, chanIDs, res, &wg)
	go chanFeeder(n, ch, chanIDs)
	go mutexWorker(n, &mu, held, done, mutexIDs, res, &wg)
	go mutexHolder(n, &mu, held, done, mutexIDs)
	go sleepWorker(n, res, &wg)
	go syscallWorker(n, res, &wg)
	wg.Wait()
	// wg.Done runs before a worker's goroutine exits: wait until they all
	// have (a tracer must see each one die before the OK line).
	for i := 0; i < 5000 && runtime.NumGoroutine() > base; i++ {
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 4; i++ {
		emit(<-res)
	}
}

// startBusy starts the -busy goroutines; the returned function, called
// after the workload, releases the stuck goroutine and the busy one's
// count and waits for both reports.
func startBusy(n int) (after func()) {
	release, stuckRes := make(chan struct{}), make(chan result, 1)
	go func() {
		id := goid()
		<-release
		released := mono()
		var sp spans
		for i := 0; i < 3; i++ {
			t0 := mono()
			time.Sleep(pause)
			sp.add(t0, mono(), 3)
		}
		stuckRes <- result{"event": "stuck", "goid": id, "blocks": 3, "spans": sp,
			"released": released, "pause_ns": int64(pause)}
	}()
	var mark int32
	busyRes := make(chan result, 1)
	go func() {
		id := goid()
		for atomic.LoadInt32(&mark) == 0 {
			time.Sleep(time.Millisecond)
		}
		marked := mono()
		var sp spans
		for i := 0; i < n; i++ {
			t0 := mono()
			time.Sleep(pause)
			sp.add(t0, mono(), n)
		}
		busyRes <- result{"event": "busy", "goid": id, "blocks": n, "spans": sp, "marked": marked,
			"pause_ns": int64(pause)}
	}()
	var stop int32
	go func() { // a spinner: always running or runnable
		for x := 0; atomic.LoadInt32(&stop) == 0; x++ {
			if x%1000000 == 0 {
				runtime.Gosched()
			}
		}
	}()
	return func() {
		atomic.StoreInt32(&mark, 1)
		close(release)
		emit(<-busyRes)
		emit(<-stuckRes)
		atomic.StoreInt32(&stop, 1)
	}
}

//go:noinline
func pingpong(n int) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	el := time.Since(start)
	close(ping)
	emit(map[string]interface{}{"event": "pingpong", "rounds": n, "ns": el.Nanoseconds()})
}

func main() {
	start := mono()
	n := flag.Int("n", 10, "blocks per worker")
	waitStdin := flag.Bool("wait-stdin", false, "wait for a line on stdin before starting")
	busy := flag.Bool("busy", false, "with -wait-stdin: goroutines busy while a tracer attaches")
	loop := flag.Bool("loop", false, "repeat until killed")
	exitCode := flag.Int("exit", 0, "exit status after the OK line")
	pp := flag.Int("pingpong", 0, "benchmark: ping-pong rounds")
	flag.Parse()

	var afterBusy func()
	if *busy {
		afterBusy = startBusy(*n)
	}
	emit(map[string]interface{}{"event": "ready", "pid": os.Getpid(), "go": runtime.Version()})
	if *waitStdin {
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			fmt.Fprintln(os.Stderr, "states: stdin:", err)
			os.Exit(1)
		}
	}
	if *pp > 0 {
		pingpong(*pp)
		return
	}
	for {
		workload(*n)
		if !*loop {
			break
		}
	}
	if afterBusy != nil {
		afterBusy()
	}
	emit(map[string]interface{}{"event": "ok", "start": start, "end": mono()})
	os.Exit(*exitCode)
}
