// Command inline prints, for call chains that mix inlined and real calls,
// the PCs runtime.Callers returns and the frames runtime.CallersFrames makes
// of them: the independent truth for gosym's inline-tree expansion.
//
// Output: one JSON object per line,
//   {"pc":"0x...","frames":[{"func":..,"file":..,"line":..},...]}
// where pc is the return address minus one (the PC inside the call
// instruction, as CallersFrames uses it) and frames are innermost first.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
)

type frame struct {
	Func string `json:"func"`
	File string `json:"file"`
	Line int    `json:"line"`
}

type record struct {
	PC     string  `json:"pc"`
	Frames []frame `json:"frames"`
}

var out = json.NewEncoder(os.Stdout)

// capture records the caller chain.  Each physical PC is reported with all
// the logical frames CallersFrames expands it into.
//go:noinline
func capture() int {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	pcs = pcs[:n]
	for _, pc := range pcs {
		// Expand one PC at a time so frames group by physical PC.
		frames := runtime.CallersFrames([]uintptr{pc})
		r := record{PC: fmt.Sprintf("0x%x", pc-1)}
		for {
			f, more := frames.Next()
			r.Frames = append(r.Frames, frame{f.Function, f.File, f.Line})
			if !more {
				break
			}
		}
		out.Encode(r)
	}
	return n
}

func leafInlined(x int) int { return capture() + x }     // inlined into midInlined
func midInlined(x int) int  { return leafInlined(x+1) * 2 } // inlined into outer

//go:noinline
func outer(x int) int { return midInlined(x) + 1 }

type T struct{ v int }

func (t *T) get() int { return capture() + t.v } // inlined method

//go:noinline
func useMethod(t *T) int { return t.get() }

//go:noinline
func closureChain() int {
	f := func() int { return capture() }
	return f()
}

func main() {
	s := outer(1) + useMethod(&T{3}) + closureChain()
	fmt.Fprintln(os.Stderr, "done", s)
}
