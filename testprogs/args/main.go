// Command args is the test program of `gotrace funcgraph --args`.  Every
// function a test traces is named main.arg* (pattern 'main.arg*'), takes
// and returns one family of Go types, and prints its own arguments at entry
// and its results just before returning (truth.go): the values the tracer
// must show, call by call.
//
// The families: every integer size, bool, uintptr; floats and complex (in
// registers and spilled to the stack); strings and byte slices longer than
// any read limit; slices, arrays (0, 1 and 3 elements); pointers three
// levels deep, nil and unreadable; structs in registers and too big for
// them; maps, chans, funcs and closures; interfaces and errors
// (errors.New, fmt.Errorf); time.Duration and time.Time; methods on value
// and pointer receivers; variadics; blank and unnamed parameters; more
// arguments and results than there are registers; generics (argsgen.go).
//
// Usage: args [-n ROUNDS] [-q] [-bench N]
//
//	-n N      run the workload N times (default 1) on the main goroutine
//	          and on a second goroutine
//	-q        don't print the truth lines
//	-bench N  call the three benchmark targets N times each and print
//	          "args: bench KIND N calls in T ns" (no truth lines)
//
// Output: "args: pid N", the argtruth lines, "args: done".
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"
)

type Small struct {
	A int32
	B bool
	C uint8
}

type Opts struct {
	TTL   time.Duration
	Fresh bool
	Name  string
}

// Point's floats travel in X registers.
type Point struct{ X, Y float64 }

// Big has more integer words than there are integer registers: stack.
type Big struct{ A, B, C, D, E, F, G, H, I, J int64 }

// WithArr holds an array of 3: never in registers.
type WithArr struct {
	N   int
	Arr [3]int32
}

// Mixed is passed on the stack (the array) with floats inside.
type Mixed struct {
	F32 float32
	I16 int16
	F64 float64
	U   uint64
	Pad [2]uint8
}

type Node struct {
	Val  int
	Name string
	Next *Node
}

type Empty struct{}

type ID int64

func (id ID) String() string { return fmt.Sprintf("id-%d", int64(id)) }

type Counter struct {
	n    int
	name string
}

//go:noinline
func argInts(a int8, b int16, c int32, d int64, e int, f uint8, g uint16, h uint32, i uint64,
	j uint, k uintptr) int64 {
	in("a", &a, "b", &b, "c", &c, "d", &d, "e", &e, "f", &f, "g", &g, "h", &h, "i", &i,
		"j", &j, "k", &k)
	r := int64(a) + int64(b) + int64(c) + d + int64(e) - int64(j)
	out("~r0", &r)
	return r
}

//go:noinline
func argBools(a, b bool) (r bool) {
	in("a", &a, "b", &b)
	r = a != b
	out("r", &r)
	return r
}

//go:noinline
func argFloats(a float32, b float64, c complex64, d complex128) (float64, complex128) {
	in("a", &a, "b", &b, "c", &c, "d", &d)
	r0, r1 := float64(a)+b, complex128(c)+d
	out("~r0", &r0, "~r1", &r1)
	return r0, r1
}

// argFloatsMem: floats the tracer can read, on the stack and behind a pointer.
//
//go:noinline
func argFloatsMem(a [2]float64, p *Point, m Mixed) (r [2]float32) {
	in("a", &a, "p", &p, "m", &m)
	r = [2]float32{float32(a[0]), float32(p.Y)}
	out("r", &r)
	return r
}

//go:noinline
func argStrings(s string, b []byte, empty string, nilSlice []int, long string) (string, int) {
	in("s", &s, "b", &b, "empty", &empty, "nilSlice", &nilSlice, "long", &long)
	r0, r1 := strings.ToUpper(s), len(b)+len(long)
	out("~r0", &r0, "~r1", &r1)
	return r0, r1
}

//go:noinline
func argSlices(xs []int, ss []string, big []byte, ps []*Node) (n int) {
	in("xs", &xs, "ss", &ss, "big", &big, "ps", &ps)
	n = len(xs) + len(ss) + len(big) + len(ps)
	out("n", &n)
	return n
}

//go:noinline
func argArrays(a [3]int, z [0]int, one [1]string, two [2]bool) [1]int16 {
	in("a", &a, "z", &z, "one", &one, "two", &two)
	r := [1]int16{int16(a[0] + len(one[0]))}
	out("~r0", &r)
	return r
}

//go:noinline
func argPtrs(p *int, n *Node, nilp *int, pp **int, bad *int64, u unsafe.Pointer) *Node {
	in("p", &p, "n", &n, "nilp", &nilp, "pp", &pp, "bad", &bad, "u", &u)
	r := n.Next
	out("~r0", &r)
	return r
}

//go:noinline
func argStructs(s Small, o Opts, b Big, w WithArr, e Empty) (Small, error) {
	in("s", &s, "o", &o, "b", &b, "w", &w, "e", &e)
	s.A += int32(b.J)
	var err error
	if !o.Fresh {
		err = errors.New("stale: " + o.Name)
	}
	out("~r0", &s, "~r1", &err)
	return s, err
}

//go:noinline
func argBigResult(seed int64) (b Big) {
	in("seed", &seed)
	b = Big{seed, seed + 1, seed + 2, seed + 3, seed + 4, seed + 5, seed + 6, seed + 7,
		seed + 8, -seed}
	out("b", &b)
	return b
}

//go:noinline
func argManyResults(x int) (a, b, c, d, e, f, g, h, i, j int) {
	in("x", &x)
	a, b, c, d, e, f, g, h, i, j = x, x+1, x+2, x+3, x+4, x+5, x+6, x+7, x+8, x*100
	out("a", &a, "b", &b, "c", &c, "d", &d, "e", &e, "f", &f, "g", &g, "h", &h, "i", &i,
		"j", &j)
	return
}

//go:noinline
func argMaps(m map[string]int, nilm map[int]bool, ch chan int, nilch chan string,
	f func(int) int, nf func()) int {
	in("m", &m, "nilm", &nilm, "ch", &ch, "nilch", &nilch, "f", &f, "nf", &nf)
	r := len(m) + len(ch)
	out("~r0", &r)
	return r
}

//go:noinline
func argIfaces(e interface{}, e2 interface{}, s fmt.Stringer, err error, err2 error,
	nilerr error, e3 interface{}) (res interface{}, rerr error) {
	in("e", &e, "e2", &e2, "s", &s, "err", &err, "err2", &err2, "nilerr", &nilerr, "e3", &e3)
	res, rerr = s, err2
	out("res", &res, "rerr", &rerr)
	return
}

//go:noinline
func argTime(d time.Duration, t time.Time) time.Duration {
	in("d", &d, "t", &t)
	r := d * 2
	out("~r0", &r)
	return r
}

//go:noinline
func (c Counter) argGet(k int) int {
	in("c", &c, "k", &k)
	r := c.n + k
	out("~r0", &r)
	return r
}

//go:noinline
func (c *Counter) argInc(by int) (n int, name string) {
	in("c", &c, "by", &by)
	c.n += by
	n, name = c.n, c.name
	out("n", &n, "name", &name)
	return
}

//go:noinline
func argVariadic(prefix string, xs ...int) int {
	in("prefix", &prefix, "xs", &xs)
	r := len(prefix) + len(xs)
	out("~r0", &r)
	return r
}

//go:noinline
func argBlank(_ int, x int, _ string) (int, string) {
	in("x", &x)
	r0, r1 := x+1, "blank"
	out("~r0", &r0, "~r1", &r1)
	return r0, r1
}

// argClosure returns a closure taking arguments (main.argClosure.func1).
//
//go:noinline
func argClosure(base int) func(a int, s string) string {
	in("base", &base)
	f := func(a int, s string) string {
		in("a", &a, "s", &s)
		r := fmt.Sprintf("%s%d", s, a+base)
		out("~r0", &r)
		return r
	}
	out("~r0", &f)
	return f
}

var sink interface{}

func workload(round int) {
	argInts(-128, -32768, -2147483648, -9223372036854775808, int(round), 255, 65535,
		4294967295, 18446744073709551615, 12345678901, 0xdeadbeef)
	argInts(1, 2, 3, 4, 5, 6, 7, 8, 9007199254740993, 10, 11)
	argBools(true, false)
	argBools(false, false)
	argFloats(1.5, -2.25, complex(1, -1), complex(0.1, 1e300))
	argFloatsMem([2]float64{3.25, -0.1}, &Point{X: 1e-300, Y: 2.5},
		Mixed{F32: 1.25, I16: -7, F64: 6.02214076e23, U: 1 << 63, Pad: [2]uint8{1, 2}})

	hello := "hello, world"
	long := strings.Repeat("0123456789abcdef", 20) // 320 bytes
	argStrings(hello, []byte(hello), "", nil, long)
	argStrings("h\x00\xff\u00e9\u4e16", []byte{0, 1, 2, 0xff}, "", []int{}, long[:70])

	nodes := []*Node{{Val: 1}, nil}
	bigb := make([]byte, 4096, 8192)
	for i := range bigb {
		bigb[i] = byte(i * 7)
	}
	argSlices([]int{1, -2, 3, round}, []string{"a", "bc", long}, bigb, nodes)
	argSlices(make([]int, 0, 5), nil, bigb[:3], nil)

	argArrays([3]int{7, 8, 9}, [0]int{}, [1]string{"only"}, [2]bool{true, false})

	x, y := 42, 43
	px := &y
	n3 := &Node{Val: 3, Name: "third"}
	n2 := &Node{Val: 2, Name: "second", Next: n3}
	n1 := &Node{Val: 1, Name: "first", Next: n2}
	argPtrs(&x, n1, nil, &px, (*int64)(unsafe.Pointer(uintptr(0x1000))), unsafe.Pointer(&y))

	argStructs(Small{A: -5, B: true, C: 200}, Opts{TTL: 30 * time.Second, Fresh: true, Name: "o"},
		Big{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, WithArr{N: 4, Arr: [3]int32{-1, 0, 1}}, Empty{})
	argStructs(Small{}, Opts{Name: "stale-one"}, Big{J: -1}, WithArr{}, Empty{})
	argBigResult(int64(round) * 1000)
	argManyResults(round + 1)

	m := map[string]int{"a": 1, "b": 2, "c": 3}
	ch := make(chan int, 8)
	ch <- 1
	ch <- 2
	argMaps(m, nil, ch, nil, func(i int) int { return i + x }, nil)

	base := errors.New("unexpected EOF")
	wrapped := fmt.Errorf("parse %q: %w", "b", base)
	argIfaces(42, n1, ID(7), base, wrapped, nil, "boxed string")
	argIfaces(nil, 2.5, nil, nil, fmt.Errorf("plain %d", 5), nil, Small{A: 1})

	argTime(1500*time.Millisecond, time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC))
	argTime(-time.Nanosecond, time.Unix(1700000000, 123456789))

	c := Counter{n: 10, name: "ctr"}
	c.argGet(5)
	(&c).argInc(3)
	argVariadic("pre", 1, 2, 3)
	argVariadic("none")
	argBlank(1, 2, "three")
	f := argClosure(100)
	sink = f(5, "s=")
	generics(round)
}

func main() {
	rounds := flag.Int("n", 1, "rounds")
	q := flag.Bool("q", false, "no truth lines")
	bench := flag.Int("bench", 0, "benchmark calls")
	flag.Parse()
	quiet = *q
	fmt.Printf("args: pid %d\n", os.Getpid())
	if *bench > 0 {
		runBench(*bench)
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := 0; r < *rounds; r++ {
			workload(r + 1000)
		}
	}()
	for r := 0; r < *rounds; r++ {
		workload(r)
	}
	wg.Wait()
	fmt.Println("args: done")
}
