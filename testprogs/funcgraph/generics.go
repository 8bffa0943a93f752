//go:build go1.18
// +build go1.18

package main

type fgNum interface{ ~int | ~int64 | ~float64 }

//go:noinline
func fgSum[T fgNum](t *tally, xs []T) T {
	t.in()
	var s T
	for _, x := range xs {
		s += x
	}
	t.out()
	return s
}

type fgBox[T any] struct{ v T }

//go:noinline
func (b *fgBox[T]) fgGet(t *tally) T {
	t.in()
	t.out()
	return b.v
}

//go:noinline
func fgGenerics(t *tally, seed int) {
	t.in()
	fgSum(t, []int{seed, 2, 3})
	fgSum(t, []float64{1.5, float64(seed)})
	b := &fgBox[string]{v: "x"}
	for i := 0; i < 1+seed%2; i++ {
		b.fgGet(t)
	}
	t.out()
}
