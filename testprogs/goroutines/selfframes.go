package main

import (
	"encoding/json"
	"io"
	"runtime"
	"sync"
)

// The -frames mode: capture runtime.Callers in a few known call chains and
// print what runtime.CallersFrames makes of each PC, one JSON line per PC:
//
//	{"chain":"inlined","pc":"0x4a1f20","entry":"0x4a1f00",
//	 "frames":[{"func":"main.selfInlLeaf","file":"/x/selfframes.go","line":83}]}
//
// runtime.Callers returns one PC per logical frame: a return address for a
// physical frame, and for each frame inlined into it a "virtual" PC one past
// the inline mark of the call (so pc-1 is in the caller's code, at the call
// site).  The frames are what the runtime reports for pc-1: the innermost
// logical frame first (recent runtimes report exactly that one; old ones may
// expand the inlined callers too).  entry is the entry of the physical
// function containing pc-1.  Under PIE these are run-time addresses:
// subtract entry - (link-time entry of that function).  This is the Go
// runtime's own symbolization of its own binary: an independent truth.

type selfFrame struct {
	Func string `json:"func"`
	File string `json:"file"`
	Line int    `json:"line"`
}

type selfPC struct {
	Chain  string      `json:"chain"`
	PC     string      `json:"pc"`
	Entry  string      `json:"entry"`
	Frames []selfFrame `json:"frames"`
}

func hex(v uintptr) string {
	const digits = "0123456789abcdef"
	if v == 0 {
		return "0x0"
	}
	var b [18]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = digits[v&15]
		v >>= 4
	}
	i--
	b[i] = 'x'
	i--
	b[i] = '0'
	return string(b[i:])
}

func emit(w io.Writer, chain string, pcs []uintptr) {
	enc := json.NewEncoder(w)
	for _, pc := range pcs {
		fn := runtime.FuncForPC(pc - 1)
		if fn == nil {
			continue
		}
		// One PC at a time, so the logical frames of each physical frame
		// stay together whatever the version does with inlined frames' PCs.
		rec := selfPC{Chain: chain, PC: hex(pc), Entry: hex(fn.Entry())}
		frames := runtime.CallersFrames([]uintptr{pc})
		for {
			f, more := frames.Next()
			if f.Function != "" {
				rec.Frames = append(rec.Frames, selfFrame{f.Function, f.File, f.Line})
			}
			if !more {
				break
			}
		}
		if len(rec.Frames) > 0 {
			enc.Encode(rec)
		}
	}
}

// A chain of noinline calls.

//go:noinline
func frameA(pcs []uintptr) int { return frameB(pcs) + 1 }

//go:noinline
func frameB(pcs []uintptr) int { return frameC(pcs) + 1 }

//go:noinline
func frameC(pcs []uintptr) int { return runtime.Callers(1, pcs) }

// A chain inlined into captureInlined: three logical frames, one physical.

//go:noinline
func captureInlined(pcs []uintptr) int { return selfInlTop(pcs) }
func selfInlTop(pcs []uintptr) int     { return selfInlMid(pcs) }
func selfInlMid(pcs []uintptr) int     { return selfInlLeaf(pcs) }
func selfInlLeaf(pcs []uintptr) int    { return runtime.Callers(1, pcs) }

// A method on a value receiver called through an interface.

type caller interface{ capture(pcs []uintptr) int }
type valueRecv struct{ n int }

//go:noinline
func (v valueRecv) capture(pcs []uintptr) int { return runtime.Callers(1, pcs) + v.n }

// Inside a deferred function while a panic unwinds.

//go:noinline
func capturePanicking(pcs []uintptr) (n int) {
	defer func() {
		n = runtime.Callers(1, pcs)
		recover()
	}()
	panicker3(1)
	return 0
}

func printSelfFrames(w io.Writer) {
	run := func(chain string, f func(pcs []uintptr) int) {
		pcs := make([]uintptr, 64)
		n := f(pcs)
		emit(w, chain, pcs[:n])
	}
	run("noinline", func(pcs []uintptr) int { return frameA(pcs) })
	run("inlined", captureInlined)
	var c caller = valueRecv{0}
	run("method", c.capture)
	run("panicking", capturePanicking)
	run("goroutine", func(pcs []uintptr) int {
		var wg sync.WaitGroup
		var n int
		wg.Add(1)
		go func() {
			defer wg.Done()
			n = frameA(pcs)
		}()
		wg.Wait()
		return n
	})
	run("recursion", func(pcs []uintptr) int { return recurseCapture(5, pcs) })
	run("generic", genericFrames)
}

//go:noinline
func recurseCapture(n int, pcs []uintptr) int {
	if n == 0 {
		return runtime.Callers(1, pcs)
	}
	return recurseCapture(n-1, pcs)
}
