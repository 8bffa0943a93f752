package main

// The truth printer: every traced function calls in() with its arguments
// at entry and out() with its results just before it returns.  Each call
// prints one line
//
//	argtruth {"goid":G,"func":"main.F","ev":"in"|"out","vals":[{"name":N,"v":V},...]}
//
// where V is the value as this program sees it, encoded by reflection
// (independently of gotrace's own output format):
//
//	bool, ints, uints    JSON true/false, numbers (exact: Go prints them)
//	floats               {"f":"0x1.8p+01"} (strconv 'x' format, exact)
//	complex              {"re":F,"im":F}
//	string               {"len":N,"hex":"6869"} (all bytes)
//	slice                null if nil, else {"len","cap","elems":[...]}
//	                     (the first 64 elements)
//	array                {"elems":[...]}
//	pointer              null if nil, else {"addr":"0x..","elem":V} (the
//	                     pointee to 4 levels; "elem" left out below that)
//	struct               {"fields":[[name,V],...]}
//	map                  null if nil, else {"addr":"0x..","len":N}
//	chan                 null if nil, else {"addr":"0x..","len":N,"cap":N}
//	func                 null if nil, else {"func":"runtime name of its code"}
//	interface            null if nil, else {"type":"%T","value":V}, plus
//	                     "error":"msg" for errors.New / fmt.Errorf values
//	time.Time            {"time":"RFC3339Nano in UTC"}
//	time.Duration        {"dur":ns,"str":"what String() says"}
//	unsafe.Pointer       {"addr":"0x.."}
//
// goid is the goroutine's id as runtime.Stack prints it; func is the
// caller's name as runtime.CallersFrames reports it.

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	outMu   sync.Mutex
	quiet   bool
	timeTyp = reflect.TypeOf(time.Time{})
	durTyp  = reflect.TypeOf(time.Duration(0))
)

func curGoid() int64 {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	s = strings.TrimPrefix(s, "goroutine ")
	id, _ := strconv.ParseInt(s[:strings.IndexByte(s, ' ')], 10, 64)
	return id
}

// callerName: the function two frames up (the traced function).
func callerName() string {
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:])
	fr, _ := runtime.CallersFrames(pcs[:]).Next()
	return fr.Function
}

// in records a traced function's arguments: name, value, name, value...
//
//go:noinline
func in(kv ...interface{}) { emit(callerName(), "in", kv) }

// out records its results the same way.
//
//go:noinline
func out(kv ...interface{}) { emit(callerName(), "out", kv) }

func emit(fn, ev string, kv []interface{}) {
	if quiet {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `argtruth {"goid":%d,"func":%s,"ev":"%s","vals":[`, curGoid(),
		strconv.Quote(fn), ev)
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":%s,"v":`, strconv.Quote(kv[i].(string)))
		// kv[i+1] is a pointer to the value: so interfaces keep their
		// static type (an error stays an error, nil stays typed)
		enc(&b, reflect.ValueOf(kv[i+1]).Elem(), 4)
		b.WriteByte('}')
	}
	b.WriteString("]}\n")
	outMu.Lock()
	os.Stdout.WriteString(b.String())
	outMu.Unlock()
}

func encFloat(b *strings.Builder, f float64) {
	fmt.Fprintf(b, `{"f":"%s"}`, strconv.FormatFloat(f, 'x', -1, 64))
}

func addr(p uintptr) string { return fmt.Sprintf(`"0x%x"`, p) }

// enc writes v; depth bounds how many pointers are followed.
func enc(b *strings.Builder, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("null")
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Type() == durTyp {
			fmt.Fprintf(b, `{"dur":%d,"str":%q}`, v.Int(), time.Duration(v.Int()).String())
			return
		}
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Uintptr:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		encFloat(b, v.Float())
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		b.WriteString(`{"re":`)
		encFloat(b, real(c))
		b.WriteString(`,"im":`)
		encFloat(b, imag(c))
		b.WriteByte('}')
	case reflect.String:
		fmt.Fprintf(b, `{"len":%d,"hex":"%x"}`, v.Len(), v.String())
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		fmt.Fprintf(b, `{"len":%d,"cap":%d,"addr":%s,"elems":`, v.Len(), v.Cap(),
			addr(v.Pointer()))
		encElems(b, v, depth)
		b.WriteByte('}')
	case reflect.Array:
		b.WriteString(`{"elems":`)
		encElems(b, v, depth)
		b.WriteByte('}')
	case reflect.Ptr:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		fmt.Fprintf(b, `{"addr":%s`, addr(v.Pointer()))
		if depth > 0 && v.Pointer() >= 0x10000 {
			b.WriteString(`,"elem":`)
			enc(b, v.Elem(), depth-1)
		}
		b.WriteByte('}')
	case reflect.Struct:
		if v.Type() == timeTyp {
			t := timeOf(v)
			fmt.Fprintf(b, `{"time":%q}`, t.UTC().Format(time.RFC3339Nano))
			return
		}
		b.WriteString(`{"fields":[`)
		for i := 0; i < v.NumField(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, `[%q,`, v.Type().Field(i).Name)
			enc(b, v.Field(i), depth)
			b.WriteByte(']')
		}
		b.WriteString("]}")
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		fmt.Fprintf(b, `{"addr":%s,"len":%d}`, addr(v.Pointer()), v.Len())
	case reflect.Chan:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		fmt.Fprintf(b, `{"addr":%s,"len":%d,"cap":%d}`, addr(v.Pointer()), v.Len(), v.Cap())
	case reflect.Func:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		fmt.Fprintf(b, `{"func":%q}`, runtime.FuncForPC(v.Pointer()).Name())
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		e := v.Elem()
		fmt.Fprintf(b, `{"type":%q,"value":`, e.Type().String())
		enc(b, e, depth)
		if msg, ok := stdErrorMsg(v); ok {
			fmt.Fprintf(b, `,"error":{"len":%d,"hex":"%x"}`, len(msg), msg)
		}
		b.WriteByte('}')
	case reflect.UnsafePointer:
		fmt.Fprintf(b, `{"addr":%s}`, addr(v.Pointer()))
	default:
		fmt.Fprintf(b, `{"unknown":%q}`, v.Kind().String())
	}
}

func encElems(b *strings.Builder, v reflect.Value, depth int) {
	b.WriteByte('[')
	for i := 0; i < v.Len() && i < 64; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		enc(b, v.Index(i), depth)
	}
	b.WriteByte(']')
}

// timeOf reads a time.Time field that reflection may not Interface().
func timeOf(v reflect.Value) time.Time {
	if v.CanInterface() {
		return v.Interface().(time.Time)
	}
	return time.Unix(0, 0) // never reached: the program passes times as values
}

// stdErrorMsg: the message of the standard library's own error values
// (errors.New, fmt.Errorf), the ones gotrace reads the message of.
func stdErrorMsg(v reflect.Value) (string, bool) {
	if !v.CanInterface() {
		return "", false
	}
	err, ok := v.Interface().(error)
	if !ok {
		return "", false
	}
	switch fmt.Sprintf("%T", err) {
	case "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors":
		return err.Error(), true
	}
	return "", false
}
