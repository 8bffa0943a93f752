package main

// shape has methods on both a value and a pointer receiver, called directly,
// through an interface, and as method values.
type shape interface {
	area() int
	grow(int)
}

type rect struct{ w, h int }

//go:noinline
func (r rect) area() int { return r.w * r.h }

//go:noinline
func (r *rect) grow(d int) { r.w += d; r.h += d }

type square2 struct{ rect }

//go:noinline
func (s *square2) area() int { return s.w * s.w }

//go:noinline
func runMethods(n int) int {
	shapes := []shape{&rect{1, 2}, &square2{rect{3, 3}}}
	total := 0
	for i := 0; i < n; i++ {
		for _, s := range shapes {
			s.grow(1)
			total += s.area()
		}
	}
	r := rect{2, 5}
	f := r.area // method value over a value receiver
	g := (&r).grow
	g(1)
	return total + f() + r.area() + inlinedChain(3)
}

// inlinedChain -> inlMid -> inlLeaf are all small enough to be inlined into
// their callers, giving a PC whose inline tree has several levels.
func inlinedChain(x int) int { return inlMid(x) + 1 }
func inlMid(x int) int       { return inlLeaf(x) * 2 }
func inlLeaf(x int) int      { return x + 7 }
