package api

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/exp/apidiff"
)

// The tests below check the checker on small modules held in memory, so
// that it is seen to fail when it should.

// A source is one package of a module in memory: its import path and the
// text of its one file.
type source struct{ path, text string }

// typeCheck type-checks the packages of a module in memory; a package may
// import the packages before it in srcs, and no other.
func typeCheck(t *testing.T, modPath string, srcs ...source) *record {
	t.Helper()
	fset := token.NewFileSet()
	pkgs := map[string]*types.Package{}
	r := &record{module: apidiff.Module{Path: modPath}, deprecated: map[types.Object]bool{}}
	for _, src := range srcs {
		f, err := parser.ParseFile(fset, src.path+"/x.go", src.text, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		conf := types.Config{Importer: importerFunc(func(path string) (*types.Package, error) {
			if p := pkgs[path]; p != nil {
				return p, nil
			}
			return nil, fmt.Errorf("no package %s in the test module", path)
		})}
		info := &types.Info{Defs: map[*ast.Ident]types.Object{}}
		pkg, err := conf.Check(src.path, fset, []*ast.File{f}, info)
		if err != nil {
			t.Fatal(err)
		}
		pkgs[src.path] = pkg
		r.module.Packages = append(r.module.Packages, pkg)
		collectDeprecated([]*ast.File{f}, info, r.deprecated)
	}
	sortPackages(r.module.Packages)
	return r
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// recordAndRead writes r's files to a new directory and reads them back,
// as TestAPI reads the committed ones.
func recordAndRead(t *testing.T, r *record) ([]string, *record) {
	t.Helper()
	dir := t.TempDir()
	if err := r.write(dir); err != nil {
		t.Fatal(err)
	}
	lines, recorded, err := readRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	return lines, recorded
}

// TestLines checks the lines written for each kind of declaration against
// the format of Go's api/go1.*.txt.
func TestLines(t *testing.T) {
	r := typeCheck(t, "example.com/m",
		source{"example.com/m", `package m

const Untyped = "x"
const Big = 1 << 70
const Pi = 3.14159265358979323846264338327950288419716939937510582097494459
type Code string
const CodeNotFound Code = "not_found"

var ErrNotFound error

// Deprecated: use New.
func Old() {}

func New(s Store, c *Config, opts ...func(*Config)) (*Ledger, error) { return nil, nil }
func Map[K comparable, V any, M ~map[K]V](m M, f func(K) bool) []V { return nil }

type Store interface {
	View(fn func(Tx) error) error
	Tx
}
type Tx interface{ Get(id string) (byte, rune) }
type sealed interface{ seal() }
type Sealed interface {
	sealed
	Name() string
}
type Number interface{ ~int | ~float64 }

type Config struct {
	Size  int
	Clock interface{ Now() int64 }
	// Deprecated: no longer read.
	Old   chan<- [2]map[string]uintptr
	inner
	*Base
	hidden bool
}
type inner struct{ Inner string }
type Base struct{}
func (*Base) Close() error { return nil }

type Ledger struct{ ch <-chan struct{} }
func (l *Ledger) Orders(f OrderFilter) (Page[Order], error) { return Page[Order]{}, nil }
func (Ledger) String() string { return "" }

type Order struct{ ID string }
type OrderFilter struct{ After string }
type Page[T any] struct {
	Items []T
	Next  string
}
func (p *Page[T]) First() (T, bool) { var t T; return t, false }

type Alias = Page[Code]
`},
		source{"example.com/m/sub", `package sub

import "example.com/m"

type Store struct{ m.Store }

func New() *Store { return nil }
`},
	)
	want := `pkg example.com/m, const Big = 1180591620717411303424
pkg example.com/m, const Big ideal-int
pkg example.com/m, const CodeNotFound = "not_found"
pkg example.com/m, const CodeNotFound Code
pkg example.com/m, const Pi = 3.14159  // 314159265358979323846264338327950288419716939937510582097494459/100000000000000000000000000000000000000000000000000000000000000
pkg example.com/m, const Pi ideal-float
pkg example.com/m, const Untyped = "x"
pkg example.com/m, const Untyped ideal-string
pkg example.com/m, func Map[$0 comparable, $1 interface{}, $2 interface{ ~map[$0]$1 }]($2, func($0) bool) []$1
pkg example.com/m, func New(Store, *Config, ...func(*Config)) (*Ledger, error)
pkg example.com/m, func Old //deprecated
pkg example.com/m, func Old()
pkg example.com/m, method (*Base) Close() error
pkg example.com/m, method (*Ledger) Orders(OrderFilter) (Page[Order], error)
pkg example.com/m, method (*Page[$0]) First() ($0, bool)
pkg example.com/m, method (Config) Close() error
pkg example.com/m, method (Ledger) String() string
pkg example.com/m, type Alias = Page[Code]
pkg example.com/m, type Base struct
pkg example.com/m, type Code string
pkg example.com/m, type Config struct
pkg example.com/m, type Config struct, Clock interface{ Now }
pkg example.com/m, type Config struct, Old //deprecated
pkg example.com/m, type Config struct, Old chan<- [2]map[string]uintptr
pkg example.com/m, type Config struct, Size int
pkg example.com/m, type Config struct, embedded *Base
pkg example.com/m, type Ledger struct
pkg example.com/m, type Number interface {}
pkg example.com/m, type Order struct
pkg example.com/m, type Order struct, ID string
pkg example.com/m, type OrderFilter struct
pkg example.com/m, type OrderFilter struct, After string
pkg example.com/m, type Page[$0 interface{}] struct
pkg example.com/m, type Page[$0 interface{}] struct, Items []$0
pkg example.com/m, type Page[$0 interface{}] struct, Next string
pkg example.com/m, type Sealed interface, Name() string
pkg example.com/m, type Sealed interface, unexported methods
pkg example.com/m, type Store interface { Get, View }
pkg example.com/m, type Store interface, Get(string) (uint8, int32)
pkg example.com/m, type Store interface, View(func(Tx) error) error
pkg example.com/m, type Tx interface { Get }
pkg example.com/m, type Tx interface, Get(string) (uint8, int32)
pkg example.com/m, var ErrNotFound error
pkg example.com/m/sub, func New() *Store
pkg example.com/m/sub, method (Store) Get(string) (uint8, int32)
pkg example.com/m/sub, method (Store) View(func(m.Tx) error) error
pkg example.com/m/sub, type Store struct
pkg example.com/m/sub, type Store struct, embedded m.Store
`
	if diff := cmp.Diff(want, strings.Join(r.lines(), "\n")+"\n"); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// v0 is the API recorded in the tests below; each test changes it.
var v0 = source{"example.com/m", `package m

type Ledger struct{}

func (*Ledger) Orders() []Order { return nil }

type Order struct {
	ID       string
	Quantity int
}

const CodeNotFound = "not_found"
`}

func TestCheckerSame(t *testing.T) {
	lines, recorded := recordAndRead(t, typeCheck(t, "example.com/m", v0))
	if diff := compare(lines, recorded, typeCheck(t, "example.com/m", v0)); diff != "" {
		t.Errorf("the same API differs:\n%s", diff)
	}
}

// TestCheckerChanges is the check failing: a method removed and another
// added, a field's type changed, a constant's value changed, a package
// added.
func TestCheckerChanges(t *testing.T) {
	lines, recorded := recordAndRead(t, typeCheck(t, "example.com/m", v0))
	current := typeCheck(t, "example.com/m",
		source{"example.com/m", `package m

type Ledger struct{}

func (*Ledger) ListOrders() []Order { return nil }

type Order struct {
	ID       string
	Quantity int64
}

const CodeNotFound = "not-found"
`},
		source{"example.com/m/store/memstore", `package memstore

func New() {}
`})
	want := `Lines of api/v1.txt removed (-) and added (+):
	- pkg example.com/m, const CodeNotFound = "not_found"
	- pkg example.com/m, method (*Ledger) Orders() []Order
	- pkg example.com/m, type Order struct, Quantity int
	+ pkg example.com/m, const CodeNotFound = "not-found"
	+ pkg example.com/m, method (*Ledger) ListOrders() []Order
	+ pkg example.com/m, type Order struct, Quantity int64
	+ pkg example.com/m/store/memstore, func New()

Incompatible changes, by apidiff (they may break code written for the recorded API):
	(*Ledger).Orders: removed
	CodeNotFound: value changed from "not_found" to "not-found"
	Order.Quantity: changed from int to int64

Compatible changes, by apidiff:
	(*Ledger).ListOrders: added
	package example.com/m/store/memstore: added
`
	got := compare(lines, recorded, current)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compare (-want +got):\n%s", diff)
	}
	t.Logf("TestAPI would fail with:\n%s", failure(got))
}

// TestCheckerUnexported: a struct that gains an unexported field of a
// func type is no longer comparable. No line changes; apidiff, reading the
// export data, fails the check.
func TestCheckerUnexported(t *testing.T) {
	lines, recorded := recordAndRead(t, typeCheck(t, "example.com/m", v0))
	current := typeCheck(t, "example.com/m", source{"example.com/m",
		strings.Replace(v0.text, "Quantity int\n", "Quantity int\n\tround func()\n", 1)})
	want := `Incompatible changes, by apidiff (they may break code written for the recorded API):
	Order: old is comparable, new is not
`
	if diff := cmp.Diff(want, compare(lines, recorded, current)); diff != "" {
		t.Errorf("compare (-want +got):\n%s", diff)
	}
}

// TestCheckerPackageRemoved: removing a package is incompatible.
func TestCheckerPackageRemoved(t *testing.T) {
	lines, recorded := recordAndRead(t, typeCheck(t, "example.com/m", v0,
		source{"example.com/m/notify/webhook", "package webhook\n\nfunc New() {}\n"}))
	want := `Lines of api/v1.txt removed (-) and added (+):
	- pkg example.com/m/notify/webhook, func New()

Incompatible changes, by apidiff (they may break code written for the recorded API):
	package example.com/m/notify/webhook: removed
`
	if diff := cmp.Diff(want, compare(lines, recorded, typeCheck(t, "example.com/m", v0))); diff != "" {
		t.Errorf("compare (-want +got):\n%s", diff)
	}
}

// TestCheckerEditedText: a text file edited by hand no longer matches the
// export data, and the check says so even when the text is the current
// API.
func TestCheckerEditedText(t *testing.T) {
	_, recorded := recordAndRead(t, typeCheck(t, "example.com/m", v0))
	current := typeCheck(t, "example.com/m", source{"example.com/m", v0.text + "\nfunc New() *Ledger { return nil }\n"})
	want := `Compatible changes, by apidiff:
	New: added

api/v1.txt and api/v1.export do not record the same API (edited by hand, or merged?):
	only in v1.txt: pkg example.com/m, func New() *Ledger
`
	if diff := cmp.Diff(want, compare(current.lines(), recorded, current)); diff != "" {
		t.Errorf("compare (-want +got):\n%s", diff)
	}
}

// TestPublic checks which packages of a module have an API to keep.
func TestPublic(t *testing.T) {
	for path, want := range map[string]bool{
		"example.com/m":                     true,
		"example.com/m/store/memstore":      true,
		"example.com/m/notify/webhook":      true,
		"example.com/m/internal/testdb":     false,
		"example.com/m/store/internal/sqlx": false,
		"example.com/m/cmd/licensing":       false,
		"example.com/m/examples/platform":   false,
		"example.com/m/bench":               false,
		"example.com/m/benchmarks":          true,
	} {
		if got := public("example.com/m", path); got != want {
			t.Errorf("public(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestLoadModule loads testdata/mod, a module with a package of each kind,
// as TestAPI loads this one.
func TestLoadModule(t *testing.T) {
	r, err := loadModule(filepath.Join("testdata", "mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := `pkg example.com/mod, func New() *T
pkg example.com/mod, type T struct
pkg example.com/mod/store/memstore, method (*Store) Close() error
pkg example.com/mod/store/memstore, type Store struct
pkg example.com/mod/store/memstore, type Store struct, embedded mod.T
`
	if diff := cmp.Diff(want, strings.Join(r.lines(), "\n")+"\n"); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
