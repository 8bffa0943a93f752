//go:build go1.18
// +build go1.18

package main

// Generic code (Go 1.18+): shape-stenciled functions and methods whose
// symbol names carry type arguments ("main.mapSlice[go.shape.int,...]").

type number interface {
	~int | ~int64 | ~float64
}

//go:noinline
func mapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

//go:noinline
func sum[T number](xs []T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}

type stack[T any] struct{ items []T }

//go:noinline
func (s *stack[T]) push(v T) { s.items = append(s.items, v) }

//go:noinline
func (s *stack[T]) pop() (T, bool) {
	var zero T
	if len(s.items) == 0 {
		return zero, false
	}
	v := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}

//go:noinline
func runGenerics(n int) int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i
	}
	fs := mapSlice(xs, func(x int) float64 { return float64(x) / 2 })
	var st stack[string]
	st.push("a")
	st.push("b")
	st.pop()
	var si stack[int]
	si.push(sum(xs))
	v, _ := si.pop()
	return v + int(sum(fs)) + len(st.items)
}

// genericFrames captures a stack through a generic function (-frames mode).
//
//go:noinline
func genericFrames(pcs []uintptr) int { return genericCapture(pcs, 1.5) }

//go:noinline
func genericCapture[T number](pcs []uintptr, x T) int {
	return frameC(pcs) + int(x-x)
}
