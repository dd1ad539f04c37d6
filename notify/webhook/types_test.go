package webhook

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
)

// constants returns the values of the string constants of type typ that
// the root package declares.
func constants(t *testing.T, typ string) []string {
	t.Helper()
	names, err := filepath.Glob("../../*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				v := s.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); !ok || id.Name != typ {
					continue
				}
				for _, val := range v.Values {
					lit, ok := val.(*ast.BasicLit)
					if !ok {
						t.Fatalf("a %s constant is not a literal", typ)
					}
					text, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, text)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestEventTypesInStep: the types NewForwarder accepts are the ledger's
// event types, all of them, and no notification kind shares a name with
// one (a payload's type tells them apart).
func TestEventTypesInStep(t *testing.T) {
	var ours []string
	for _, e := range eventTypes {
		ours = append(ours, string(e))
	}
	slices.Sort(ours)
	theirs := constants(t, "EventType")
	if diff := cmp.Diff(theirs, ours); diff != "" {
		t.Errorf("eventTypes out of step with licensing's EventType constants (-licensing +webhook):\n%s", diff)
	}
	kinds := constants(t, "NotificationKind")
	if !slices.Contains(kinds, string(licensing.NotifyAssigned)) {
		t.Fatalf("notification kinds %v: the parse missed them", kinds)
	}
	for _, k := range kinds {
		if slices.Contains(theirs, k) {
			t.Errorf("%q is both an event type and a notification kind", k)
		}
	}
}
