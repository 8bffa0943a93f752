// Command blockstack parks goroutines in known functions and prints, just
// before each parks, its own stack as runtime.Callers sees it: the truth for
// `gotrace states --stack` (tests/integration/test_stacks.py), whose stack of
// the goroutine's running -> waiting transition must hold the blocking
// function and exactly these callers.
//
// Two workers, each on its own goroutine, one after the other:
//
//	chan:  main.main.func1 -> main.chanOuter -> main.chanMiddle -> main.blockChan
//	       blocks in a receive on an unbuffered channel;
//	mutex: main.main.func2 -> main.mutexOuter -> main.blockMutex
//	       blocks on a sync.Mutex that main holds.
//
// Output, one JSON line per worker, printed before it blocks:
//
//	{"kind":"chan","goid":18,"frames":[{"func":..,"file":..,"line":..},...]}
//
// frames[0] is the blocking function itself at its runtime.Callers line;
// the rest are its callers, innermost first, down to runtime.goexit.
// Then {"event":"ok"}.
//
// gotrace:min-go 1.17
// gotrace:trimpath
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

type frame struct {
	Func string `json:"func"`
	File string `json:"file"`
	Line int    `json:"line"`
}

type record struct {
	Kind   string  `json:"kind"`
	Goid   int64   `json:"goid"`
	Frames []frame `json:"frames"`
}

var out = json.NewEncoder(os.Stdout)

func goid() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	if i := bytes.IndexByte(buf, ' '); i > 0 {
		buf = buf[:i]
	}
	id, _ := strconv.ParseInt(string(buf), 10, 64)
	return id
}

// report prints the caller's stack (skip = 2: report's caller is frames[0]).
func report(kind string) {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	fr := runtime.CallersFrames(pcs[:n])
	rec := record{Kind: kind, Goid: goid()}
	for {
		f, more := fr.Next()
		rec.Frames = append(rec.Frames, frame{f.Function, f.File, f.Line})
		if !more {
			break
		}
	}
	if err := out.Encode(rec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

var sink int

//go:noinline
func blockChan(ch chan int) {
	report("chan")
	sink += <-ch
}

//go:noinline
func chanMiddle(ch chan int) { blockChan(ch) }

//go:noinline
func chanOuter(ch chan int) {
	chanMiddle(ch)
	sink++
}

//go:noinline
func blockMutex(mu *sync.Mutex) {
	report("mutex")
	mu.Lock()
	sink++
	mu.Unlock()
}

//go:noinline
func mutexOuter(mu *sync.Mutex) {
	blockMutex(mu)
	sink++
}

func main() {
	var wg sync.WaitGroup

	ch := make(chan int)
	wg.Add(1)
	go func() {
		defer wg.Done()
		chanOuter(ch)
	}()
	time.Sleep(50 * time.Millisecond) // let it park
	ch <- 1
	wg.Wait()

	var mu sync.Mutex
	mu.Lock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		mutexOuter(&mu)
	}()
	time.Sleep(50 * time.Millisecond)
	mu.Unlock()
	wg.Wait()
	fmt.Println(`{"event":"ok"}`)
}
