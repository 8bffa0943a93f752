// Command cgotls is a cgo program whose executable has C thread-locals
// besides the Go runtime's g slot (runtime.tlsg), so the slot does not sit
// at the default %fs:-8.  tests/unit/test_offsets.py builds it to check
// where libgosym says g is (from runtime.tlsg + PT_TLS, and from the code
// in stripped copies) against the displacement the linker wrote into the
// instructions.
package main

/*
__thread long cgotls_a[7] = {1, 2, 3};
__thread char cgotls_b[3];

static long cgotls_get(int i) { cgotls_b[0]++; return cgotls_a[i]; }
*/
import "C"

import "fmt"

func main() { fmt.Println(C.cgotls_get(1)) }
