// gotrace:min-go 1.17

// Command handoff is the fixture of the unblock flows in `gotrace states
// --json`: goroutine A (the waker) wakes goroutine B (the sleeper) through
// an unbuffered channel a known number of times, and both report their own
// goroutine ids, so a tracer's "unblock" arrows can be counted against what
// the program knows it did.
//
// Usage: handoff [-n ROUNDS]
//
// Each round, A waits until B is parked in its channel receive (A reads
// the runtime's own goroutine dump, runtime.Stack(all=true), until B's
// header says "[chan receive]"), then sends: every send readies a parked B,
// from A's thread, while A is running.  B does nothing else that parks
// (no allocation in its loop, no locks), so every time B goes waiting ->
// runnable it was A that woke it.
//
// Output, one JSON object per line:
//
//	{"event":"ready","pid":1234,"go":"go1.26.8"}
//	{"event":"handoff","waker":18,"sleeper":19,"rounds":20,"parked":20,"wakes":21}
//	{"event":"ok"}
//
// parked counts the rounds in which A saw B parked before sending (all of
// them, unless the dump never showed it within a second); wakes counts
// A's operations on the channel that found B parked: those sends, and
// the final close when B was parked again by then (A waits for it too).
// Each woke B, so B has exactly wakes unblock arrows, all from A.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
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

func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// The all-goroutines dump; big enough for this program's few goroutines.
var dump = make([]byte, 1<<20)

// parked reports whether goroutine id is parked in a channel receive.
//
//go:noinline
func parked(id int64) bool {
	d := dump[:runtime.Stack(dump, true)]
	return bytes.Contains(d, []byte("goroutine "+strconv.FormatInt(id, 10)+" [chan receive"))
}

//go:noinline
func sleeper(ch <-chan int, ids chan<- int64, done chan<- struct{}) {
	ids <- goid()
	for range ch {
	}
	close(done)
}

//go:noinline
func waker(n int, sleeperID int64, ch chan<- int) (seen int) {
	for i := 0; i < n; i++ {
		deadline := time.Now().Add(time.Second)
		for !parked(sleeperID) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		if parked(sleeperID) {
			seen++
		}
		ch <- i
	}
	return seen
}

// closeParked closes ch once B is parked in its receive again; it reports
// whether B was (so the close woke it).
//
//go:noinline
func closeParked(sleeperID int64, ch chan<- int) bool {
	deadline := time.Now().Add(time.Second)
	for !parked(sleeperID) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	was := parked(sleeperID)
	close(ch)
	return was
}

func main() {
	n := flag.Int("n", 20, "rounds")
	flag.Parse()
	emit(map[string]interface{}{"event": "ready", "pid": os.Getpid(), "go": runtime.Version()})

	// ids is buffered: B never parks on it (only A may ever wake B).
	ch, ids, done := make(chan int), make(chan int64, 1), make(chan struct{})
	res := make(chan map[string]interface{})
	go sleeper(ch, ids, done)
	sid := <-ids
	go func() {
		id := goid()
		seen := waker(*n, sid, ch)
		wakes := seen
		if closeParked(sid, ch) {
			wakes++
		}
		res <- map[string]interface{}{"event": "handoff", "waker": id, "sleeper": sid,
			"rounds": *n, "parked": seen, "wakes": wakes}
	}()
	r := <-res
	<-done
	emit(r)
	emit(map[string]interface{}{"event": "ok"})
}
