package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		typed, name string
		want        int
	}{
		{"orders", "orders", -1},
		{"ord", "orders", 0}, // a prefix
		{"o", "orders", 5},   // too short to be a prefix
		{"ordrs", "orders", 1},
		{"ordrs", "order", 2},
		{"tire", "tier", 1}, // a transposition is one edit
		{"hlep", "help", 1},
		{"licenses", "licences", 1},
		{"order asign", "order assign", 1},
		{"nope", "demo", 4},
		{"", "demo", 4},
		{"ünïcode", "unicode", 2},
	} {
		if got := distance(c.typed, c.name); got != c.want {
			t.Errorf("distance(%q, %q) = %d, want %d", c.typed, c.name, got, c.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	for _, c := range []struct {
		args     string
		wantName string
		want     []string
	}{
		{"ordrs", "ordrs", []string{"orders"}},
		{"ordrs --status requested", "ordrs", []string{"orders"}},
		{"order asign ord_1", "order asign", []string{"order assign"}},
		{"ordr assign ord_1", "ordr assign", []string{"order assign"}},
		{"ordr", "ordr", []string{"order"}},
		{"ord", "ord", []string{"order", "orders"}},
		{"hlep", "hlep", []string{"help"}},
		{"tire", "tire", []string{"tier"}},
		{"licenses --company c", "licenses", []string{"licences"}},
		{"entitlment ana", "entitlment", []string{"entitlement"}},
		{"learner joined ana", "learner joined", nil},
		{"order approve ord_1", "order approve", nil},
		{"frobnicate", "frobnicate", nil},
		{"nope", "nope", nil},
		{"x", "x", nil},
	} {
		t.Run(c.args, func(t *testing.T) {
			name, got := suggest(strings.Fields(c.args))
			if name != c.wantName {
				t.Errorf("name %q, want %q", name, c.wantName)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("suggestions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSuggestEveryCommand checks, for every command of the table, that one
// letter dropped from its last word suggests it: the suggestions keep up
// with the table.
func TestSuggestEveryCommand(t *testing.T) {
	for _, c := range commands {
		words := strings.Fields(c.name)
		last := words[len(words)-1]
		if len(last) < 4 {
			continue
		}
		words[len(words)-1] = last[:1] + last[2:]
		t.Run(c.name, func(t *testing.T) {
			_, got := suggest(words)
			if !slices.Contains(got, c.name) {
				t.Errorf("suggest(%q) = %q, want %q among them", words, got, c.name)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	for _, g := range groups() {
		t.Run(g, func(t *testing.T) {
			if find(g) != nil {
				t.Fatalf("group %q is also a command", g)
			}
			code, out, errs := runCLI(t, g)
			if code != exitInvalid || out != "" {
				t.Errorf("licensing %s: exit status %d, stdout %q; want %d and nothing", g, code, out, exitInvalid)
			}
			cs := inGroup(g)
			if len(cs) == 0 {
				t.Fatalf("group %q has no commands", g)
			}
			for _, c := range cs {
				if !strings.Contains(errs, "  "+c.name+"  ") || !strings.Contains(errs, c.help) {
					t.Errorf("licensing %s does not list %q with its help:\n%s", g, c.name, errs)
				}
			}
			code, help, _ := runCLI(t, "help", g)
			if code != exitOK {
				t.Errorf("licensing help %s: exit status %d", g, code)
			}
			if diff := cmp.Diff(errs, help); diff != "" {
				t.Errorf("licensing help %s differs from licensing %s (-%[2]s +help):\n%s", g, g, diff)
			}
		})
	}
}
