// Command oracle_dwarf prints the runtime.g / runtime.m field offsets of a Go
// binary, read with the standard library's debug/dwarf.  It is the
// independent reader tests/unit/test_offsets.py compares libgosym against:
// it shares no code with gosym/offsets.c.
//
// Usage: go run ./tests/oracle_dwarf BINARY
//
// Output: one JSON object, keys as in struct gosym_runtime_offsets
// (g_goid, m_curg, ...), -1 for a field the binary's runtime.g lacks.
package main

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// member returns the byte offset of a dotted member path inside the struct
// type t ("sched.sp"), or -1.
func member(t dwarf.Type, path string) int64 {
	var off int64
	for _, name := range strings.Split(path, ".") {
		for {
			td, ok := t.(*dwarf.TypedefType)
			if !ok {
				break
			}
			t = td.Type
		}
		st, ok := t.(*dwarf.StructType)
		if !ok {
			return -1
		}
		found := false
		for _, f := range st.Field {
			if f.Name == name {
				off += f.ByteOffset
				t = f.Type
				found = true
				break
			}
		}
		if !found {
			return -1
		}
	}
	return off
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: oracle_dwarf BINARY")
		os.Exit(2)
	}
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "oracle_dwarf: %v\n", err)
		os.Exit(1)
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintf(os.Stderr, "oracle_dwarf: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	types := map[string]dwarf.Type{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fmt.Fprintf(os.Stderr, "oracle_dwarf: %v\n", err)
			os.Exit(1)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if name != "runtime.g" && name != "runtime.m" {
			continue
		}
		if _, seen := types[name]; seen {
			continue
		}
		t, err := d.Type(e.Offset)
		if err != nil {
			fmt.Fprintf(os.Stderr, "oracle_dwarf: %s: %v\n", name, err)
			os.Exit(1)
		}
		types[name] = t
	}
	g, m := types["runtime.g"], types["runtime.m"]
	if g == nil || m == nil {
		fmt.Fprintln(os.Stderr, "oracle_dwarf: no runtime.g / runtime.m in DWARF")
		os.Exit(1)
	}
	out := map[string]int64{
		"g_stack_lo":     member(g, "stack.lo"),
		"g_stack_hi":     member(g, "stack.hi"),
		"g_m":            member(g, "m"),
		"g_sched":        member(g, "sched"),
		"g_sched_sp":     member(g, "sched.sp"),
		"g_sched_pc":     member(g, "sched.pc"),
		"g_atomicstatus": member(g, "atomicstatus"),
		"g_goid":         member(g, "goid"),
		"g_waitreason":   member(g, "waitreason"),
		"g_startpc":      member(g, "startpc"),
		"g_gopc":         member(g, "gopc"),
		"g_parentgoid":   member(g, "parentGoid"),
		"g_sched_bp":     member(g, "sched.bp"),
		"g_sched_lr":     member(g, "sched.lr"),
		"g_syscallsp":    member(g, "syscallsp"),
		"g_syscallpc":    member(g, "syscallpc"),
		"g_waitsince":    member(g, "waitsince"),
		"g_lockedm":      member(g, "lockedm"),
		"g_labels":       member(g, "labels"),
		"g_cleanups":     member(g, "runningCleanups"),
		"g_trackingseq":  member(g, "trackingSeq"),
		"m_curg":         member(m, "curg"),
		"m_g0":           member(m, "g0"),
		"m_procid":       member(m, "procid"),
		"m_id":           member(m, "id"),
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
