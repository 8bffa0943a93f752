// Command stacks reaches main.marker through distinct call chains and
// prints, from inside the marker, its own stack as runtime.Callers and
// runtime.CallersFrames see it: the truth the unwinder tests compare with
// (tests/unit/test_unwind_go.py stops the program at marker's entry with
// ptrace, unwinds the captured registers and stack with libdwunw, and
// expects these frames; tests/integration/test_stacks.py does the same
// with gotrace funcgraph --stack).
//
// Several chains pass through compiler-made wrappers, which
// runtime.Callers leaves out (docs/go-runtime.md, "Wrapper frames"): a
// method called through an interface on a value (sort.Sort), `go f(x)`,
// `go func(x){...}(x)`, `go obj.Method(x)`, `go` of a method value, a
// method value called directly, `defer f(x)`.  marker's direct caller is
// never a wrapper: an unwinder that follows frame pointers from marker's
// entry skips the direct caller, and the tests expect that frame to be one
// runtime.Callers shows.
//
// Output: one JSON line per marker call, in call order:
//
//	{"id":N,"chain":"name","frames":[{"func":..,"file":..,"line":..},...]}
//
// Chains run one after the other, so the k-th marker hit is the k-th line.
//
// gotrace:min-go 1.17
// gotrace:trimpath
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
)

type frame struct {
	Func string `json:"func"`
	File string `json:"file"`
	Line int    `json:"line"`
}

type record struct {
	ID     int     `json:"id"`
	Chain  string  `json:"chain"`
	Frames []frame `json:"frames"`
}

var (
	chainName string
	out       = json.NewEncoder(os.Stdout)
	sink      int
)

//go:noinline
func marker(id int) {
	pcs := make([]uintptr, 128)
	n := runtime.Callers(1, pcs)
	fr := runtime.CallersFrames(pcs[:n])
	rec := record{ID: id, Chain: chainName}
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

// chain "plain": main -> a1 -> a2 -> (inlined) a2inl -> a3 -> marker

//go:noinline
func a1(x int) { a2(x + 1) }

//go:noinline
func a2(x int) { a2inl(x * 2) }

func a2inl(x int) { // small enough to be inlined into a2
	a3(x + 3)
}

//go:noinline
func a3(x int) {
	sink += x
	marker(1)
}

// chain "goroutine": a closure on a new goroutine -> b1 -> marker

//go:noinline
func b1(done chan<- struct{}) {
	marker(2)
	close(done)
}

// chain "recursion": rec(24) -> ... -> rec(0) -> marker (a 30-frame stack)

//go:noinline
func rec(n int) int {
	if n == 0 {
		marker(3)
		return 0
	}
	return rec(n-1) + 1
}

// chain "method": an interface call through a pointer receiver

type caller interface{ call(int) }

type T struct{ n int }

//go:noinline
func (t *T) call(id int) {
	t.n++
	marker(id)
}

// chain "bigframe": a frame with a large local array between main and marker

//go:noinline
func big(x int) int {
	var buf [2048]byte
	for i := range buf {
		buf[i] = byte(i + x)
	}
	marker(5)
	return int(buf[x%len(buf)])
}

// chain "callback": the standard library calls back into our code

type byVal []int

func (b byVal) Len() int      { return len(b) }
func (b byVal) Swap(i, j int) { b[i], b[j] = b[j], b[i] }

var once bool

//go:noinline
func (b byVal) Less(i, j int) bool {
	if !once {
		once = true
		marker(6)
	}
	return b[i] < b[j]
}

// chain "defer": a deferred closure runs the marker

//go:noinline
func deferred() {
	defer func() {
		marker(7)
	}()
	sink++
}

// chains "go-args", "go-method", "go-method-value", "method-value":
// worker and (*W).run are started or called through wrappers

//go:noinline
func worker(id int, wg *sync.WaitGroup) {
	defer wg.Done()
	marker(id)
}

type W struct{ n int }

//go:noinline
func (w *W) run(id int, wg *sync.WaitGroup) {
	defer wg.Done()
	w.n++
	marker(id)
}

// chain "defer-args": a deferred call with an argument (a deferwrap from
// Go 1.22)

//go:noinline
func deferTarget(id int) { marker(id) }

//go:noinline
func deferArgs(id int) {
	defer deferTarget(id)
	sink++
}

func main() {
	chainName = "plain"
	a1(1)

	chainName = "goroutine"
	done := make(chan struct{})
	go func() {
		b1(done)
	}()
	<-done

	chainName = "recursion"
	rec(24)

	chainName = "method"
	var c caller = &T{}
	c.call(4)

	chainName = "bigframe"
	sink += big(3)

	chainName = "callback"
	sort.Sort(byVal{5, 2, 8, 1, 9, 3})

	chainName = "defer"
	deferred()

	chainName = "goroutine-wg"
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rec2(2)
	}()
	wg.Wait()

	chainName = "go-args"
	wg.Add(1)
	go worker(9, &wg)
	wg.Wait()

	chainName = "go-closure-args"
	wg.Add(1)
	go func(id int, wg *sync.WaitGroup) {
		defer wg.Done()
		rec2b(id)
	}(10, &wg)
	wg.Wait()

	chainName = "go-method"
	w := &W{}
	wg.Add(1)
	go w.run(11, &wg)
	wg.Wait()

	chainName = "go-method-value"
	f := w.run
	wg.Add(1)
	go f(12, &wg)
	wg.Wait()

	chainName = "method-value"
	wg.Add(1)
	f(13, &wg)

	chainName = "defer-args"
	deferArgs(14)
}

//go:noinline
func rec2b(id int) { marker(id) }

//go:noinline
func rec2(n int) {
	if n == 0 {
		marker(8)
		return
	}
	rec2(n - 1)
}
