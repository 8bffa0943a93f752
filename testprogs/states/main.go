// gotrace:min-go 1.15

// Command states is the fixture of `gotrace states`: worker goroutines that
// each block a known number of times for a known reason and report their
// own goroutine ids, so a tracer's output can be checked against what the
// program says about itself.
//
// Usage: states [-n ROUNDS] [-wait-stdin] [-loop] [-pingpong N]
//
//	-n ROUNDS    blocks per worker (default 10)
//	-wait-stdin  print the ready line, then wait for a line on stdin before
//	             starting the workers (a tracer attaches in between)
//	-loop        repeat the workload until killed
//	-exit CODE   exit with CODE after the OK line (tests exit status propagation)
//	-pingpong N  benchmark mode: two goroutines hand a token back and forth N
//	             times over unbuffered channels; prints the elapsed time
//
// Output, one JSON object per line:
//
//	{"event":"ready","pid":1234,"go":"go1.26.8"}
//	{"event":"worker","kind":"chan","goid":18,"blocks":10}
//	... one per worker: chan, mutex, sleep, syscall ...
//	{"event":"ok"}
//
// kind says why the worker blocked: "chan" on an unbuffered channel receive,
// "mutex" on a contended sync.Mutex, "sleep" in time.Sleep, "syscall" in a
// blocking nanosleep(2) system call.  Each of the first three parks the
// goroutine (running -> waiting -> runnable -> running) once per block; the
// syscall worker enters and leaves the syscall state once per block.
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
	"syscall"
	"time"
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

var outMu sync.Mutex

func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	outMu.Lock()
	fmt.Println(string(b))
	outMu.Unlock()
}

// The pause before each unblock: long enough that the worker has parked.
const pause = 2 * time.Millisecond

//go:noinline
func chanWorker(n int, ch chan int, wg *sync.WaitGroup) {
	defer wg.Done()
	id := goid()
	for i := 0; i < n; i++ {
		<-ch
	}
	emit(map[string]interface{}{"event": "worker", "kind": "chan", "goid": id, "blocks": n})
}

//go:noinline
func chanFeeder(n int, ch chan int) {
	for i := 0; i < n; i++ {
		time.Sleep(pause)
		ch <- i
	}
}

//go:noinline
func mutexWorker(n int, mu *sync.Mutex, held, done chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	id := goid()
	for i := 0; i < n; i++ {
		<-held // the holder has locked mu
		mu.Lock()
		mu.Unlock()
		done <- struct{}{}
	}
	emit(map[string]interface{}{"event": "worker", "kind": "mutex", "goid": id, "blocks": n})
}

//go:noinline
func mutexHolder(n int, mu *sync.Mutex, held, done chan struct{}) {
	for i := 0; i < n; i++ {
		mu.Lock()
		held <- struct{}{}
		time.Sleep(pause) // the worker spins briefly, then parks on mu
		mu.Unlock()
		<-done
	}
}

//go:noinline
func sleepWorker(n int, wg *sync.WaitGroup) {
	defer wg.Done()
	id := goid()
	for i := 0; i < n; i++ {
		time.Sleep(pause)
	}
	emit(map[string]interface{}{"event": "worker", "kind": "sleep", "goid": id, "blocks": n})
}

//go:noinline
func syscallWorker(n int, wg *sync.WaitGroup) {
	defer wg.Done()
	id := goid()
	ts := syscall.NsecToTimespec(int64(pause))
	for i := 0; i < n; i++ {
		for syscall.Nanosleep(&ts, nil) == syscall.EINTR {
		}
	}
	emit(map[string]interface{}{"event": "worker", "kind": "syscall", "goid": id, "blocks": n})
}

func workload(n int) {
	var wg sync.WaitGroup
	ch := make(chan int)
	var mu sync.Mutex
	held, done := make(chan struct{}), make(chan struct{})

	base := runtime.NumGoroutine()
	wg.Add(4)
	go chanWorker(n, ch, &wg)
	go chanFeeder(n, ch)
	go mutexWorker(n, &mu, held, done, &wg)
	go mutexHolder(n, &mu, held, done)
	go sleepWorker(n, &wg)
	go syscallWorker(n, &wg)
	wg.Wait()
	// wg.Done runs before a worker's goroutine exits: wait until they all
	// have (a tracer must see each one die before the OK line).
	for i := 0; i < 5000 && runtime.NumGoroutine() > base; i++ {
		time.Sleep(time.Millisecond)
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
	n := flag.Int("n", 10, "blocks per worker")
	waitStdin := flag.Bool("wait-stdin", false, "wait for a line on stdin before starting")
	loop := flag.Bool("loop", false, "repeat until killed")
	exitCode := flag.Int("exit", 0, "exit status after the OK line")
	pp := flag.Int("pingpong", 0, "benchmark: ping-pong rounds")
	flag.Parse()

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
	emit(map[string]interface{}{"event": "ok"})
	os.Exit(*exitCode)
}
