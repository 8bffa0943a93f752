// Command source type-checks the runtime package of the Go toolchain that
// runs it (its GOROOT/src/runtime) with go/types and the gc size rules, and
// prints what the per-version tables in gosym/version_tables.c must hold:
// the runtime.g / runtime.m field offsets, the waitReasonStrings and
// gStatusStrings arrays and the funcID of compiler-generated wrappers,
// computed from the source, not from a compiled binary.
//
// Usage: GOARCH=amd64 $TOOLCHAIN/bin/go run ./tests/oracle_dwarf/source
//
// Output: one JSON object {"goversion", "offsets": {...}, "wait_reasons": [...],
// "g_status_names": [...], "funcid_wrapper": N}.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

func die(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "oracle source: "+f+"\n", a...)
	os.Exit(1)
}

// offset returns the offset of a dotted field path in struct type t, or -1.
func offset(sizes types.Sizes, t types.Type, path string) int64 {
	var off int64
	for _, name := range strings.Split(path, ".") {
		st, ok := t.Underlying().(*types.Struct)
		if !ok {
			return -1
		}
		var fields []*types.Var
		for i := 0; i < st.NumFields(); i++ {
			fields = append(fields, st.Field(i))
		}
		offs := sizes.Offsetsof(fields)
		found := false
		for i, f := range fields {
			if f.Name() == name {
				off += offs[i]
				t = f.Type()
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
	arch := build.Default.GOARCH
	ctx := build.Default
	ctx.CgoEnabled = false
	pkg, err := ctx.Import("runtime", "", 0)
	if err != nil {
		die("%v", err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, 0)
		if err != nil {
			die("%v", err)
		}
		files = append(files, f)
	}
	sizes := types.SizesFor("gc", arch)
	conf := types.Config{
		Importer: importer.ForCompiler(fset, "source", nil),
		Sizes:    sizes,
		// The runtime has body-less functions (assembly) and linknames:
		// keep going past whatever go/types dislikes; the types we need
		// are still complete.
		Error: func(error) {},
	}
	tpkg, _ := conf.Check("runtime", fset, files, nil)
	lookup := func(name string) types.Type {
		o := tpkg.Scope().Lookup(name)
		if o == nil {
			die("no runtime.%s", name)
		}
		return o.Type()
	}
	g, m := lookup("g"), lookup("m")
	offs := map[string]int64{
		"g_stack_lo":     offset(sizes, g, "stack.lo"),
		"g_stack_hi":     offset(sizes, g, "stack.hi"),
		"g_m":            offset(sizes, g, "m"),
		"g_sched":        offset(sizes, g, "sched"),
		"g_sched_sp":     offset(sizes, g, "sched.sp"),
		"g_sched_pc":     offset(sizes, g, "sched.pc"),
		"g_atomicstatus": offset(sizes, g, "atomicstatus"),
		"g_goid":         offset(sizes, g, "goid"),
		"g_waitreason":   offset(sizes, g, "waitreason"),
		"g_startpc":      offset(sizes, g, "startpc"),
		"g_gopc":         offset(sizes, g, "gopc"),
		"g_parentgoid":   offset(sizes, g, "parentGoid"),
		"g_sched_bp":     offset(sizes, g, "sched.bp"),
		"g_sched_lr":     offset(sizes, g, "sched.lr"),
		"g_syscallsp":    offset(sizes, g, "syscallsp"),
		"g_syscallpc":    offset(sizes, g, "syscallpc"),
		"g_waitsince":    offset(sizes, g, "waitsince"),
		"g_lockedm":      offset(sizes, g, "lockedm"),
		"g_labels":       offset(sizes, g, "labels"),
		"g_cleanups":     offset(sizes, g, "runningCleanups"),
		"g_trackingseq":  offset(sizes, g, "trackingSeq"),
		"m_curg":         offset(sizes, m, "curg"),
		"m_g0":           offset(sizes, m, "g0"),
		"m_procid":       offset(sizes, m, "procid"),
		"m_id":           offset(sizes, m, "id"),
	}

	reasons := stringArray(files, tpkg, "waitReasonStrings")
	statuses := stringArray(files, tpkg, "gStatusStrings")

	// The wrapper funcID: the runtime's own constant up to Go 1.20,
	// internal/abi's from Go 1.21.
	wrapper := int64(-1)
	if c, ok := tpkg.Scope().Lookup("funcID_wrapper").(*types.Const); ok {
		wrapper, _ = constant.Int64Val(c.Val())
	}
	for _, imp := range tpkg.Imports() {
		if imp.Path() != "internal/abi" {
			continue
		}
		if c, ok := imp.Scope().Lookup("FuncIDWrapper").(*types.Const); ok {
			wrapper, _ = constant.Int64Val(c.Val())
		}
	}
	if wrapper < 0 {
		die("no funcID_wrapper / abi.FuncIDWrapper")
	}
	b, _ := json.Marshal(map[string]interface{}{
		"goversion":      runtime.Version(),
		"goarch":         arch,
		"offsets":        offs,
		"wait_reasons":   reasons,
		"g_status_names": statuses,
		"funcid_wrapper": wrapper,
	})
	fmt.Println(string(b))
}

// stringArray evaluates `var name = [...]string{ key: "...", ... }` with
// the type checker's constant values for the keys.
func stringArray(files []*ast.File, tpkg *types.Package, name string) []string {
	var out []string
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				if len(vs.Names) != 1 || vs.Names[0].Name != name || len(vs.Values) != 1 {
					continue
				}
				lit, ok := vs.Values[0].(*ast.CompositeLit)
				if !ok {
					die("%s is not a composite literal", name)
				}
				for _, el := range lit.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						die("%s element without key", name)
					}
					id := kv.Key.(*ast.Ident)
					c, ok := tpkg.Scope().Lookup(id.Name).(*types.Const)
					if !ok {
						die("key %s is not a constant", id.Name)
					}
					i, _ := constant.Int64Val(c.Val())
					str, err := strconv.Unquote(kv.Value.(*ast.BasicLit).Value)
					if err != nil {
						die("%v", err)
					}
					for int64(len(out)) <= i {
						out = append(out, "")
					}
					out[i] = str
				}
			}
		}
	}
	if out == nil {
		die("no %s", name)
	}
	return out
}
