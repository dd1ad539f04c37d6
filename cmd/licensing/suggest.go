package main

import (
	"fmt"
	"slices"
	"strings"
)

// A mistyped command name gets the names nearest to it: those at most
// maxEdits edits away (Damerau–Levenshtein, with a transposition one
// edit), with no more than one edit per three letters typed so that a
// short word is not "near" everything, or those it is a prefix of.
const (
	maxEdits       = 2
	maxSuggestions = 3
)

// unknownCommand is the error for args that name no command: it names
// what was typed and, when there are any, the commands it was nearest to.
func unknownCommand(args []string) error {
	name, near := suggest(args)
	if len(near) == 0 {
		return usageErr("command", "unknown command %q; see licensing help", name)
	}
	quoted := make([]string, len(near))
	for i, n := range near {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	alts := quoted[len(quoted)-1]
	if len(quoted) > 1 {
		alts = strings.Join(quoted[:len(quoted)-1], ", ") + " or " + alts
	}
	return usageErr("command", "unknown command %q; did you mean %s?", name, alts)
}

// suggest returns the name args were meant to give, one word or two, and
// the command names nearest to it, best first.
//
// After a group's word, such as "order asign", only that group's commands
// are candidates. Otherwise the first two words are matched against the
// two-word names, so that "ordr assign" is "order assign", and failing
// that the first word against the one-word names (commands, groups and
// help), so that "ordrs" is "orders".
func suggest(args []string) (string, []string) {
	first, second := args[0], ""
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		second = args[1]
	}
	if isGroup(first) {
		name := strings.TrimSpace(first + " " + second)
		var names []string
		for _, c := range inGroup(first) {
			names = append(names, c.name)
		}
		return name, nearest(name, names)
	}
	var ones, twos []string
	for _, c := range commands {
		if strings.Contains(c.name, " ") {
			twos = append(twos, c.name)
		} else {
			ones = append(ones, c.name)
		}
	}
	if second != "" {
		two := first + " " + second
		if near := nearest(two, twos); len(near) > 0 {
			return two, near
		}
	}
	return first, nearest(first, append(append(ones, groups()...), "help"))
}

// nearest returns the names near typed, nearest first, at most
// maxSuggestions of them. A name typed is a prefix of is at distance 0.
func nearest(typed string, names []string) []string {
	type scored struct {
		name string
		d    int
	}
	var near []scored
	for _, n := range names {
		d := distance(typed, n)
		if d >= 0 && d <= maxEdits && 3*d <= len([]rune(typed)) {
			near = append(near, scored{n, d})
		}
	}
	slices.SortStableFunc(near, func(a, b scored) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.name, b.name)
	})
	var out []string
	for _, s := range near {
		// Only the nearest: "ordrs" is "orders", not also "order".
		if len(out) == maxSuggestions || s.d > near[0].d {
			break
		}
		out = append(out, s.name)
	}
	return out
}

// distance is the number of edits from typed to name: insertions,
// deletions, substitutions and transpositions of adjacent letters
// (Damerau–Levenshtein, optimal string alignment). If typed is a proper
// prefix of name of at least two letters, it is 0 edits away, and a name
// typed exactly is -1, so that neither a command nor a group suggests
// itself.
func distance(typed, name string) int {
	a, b := []rune(typed), []rune(name)
	switch {
	case typed == name:
		return -1
	case len(a) >= 2 && strings.HasPrefix(name, typed):
		return 0
	}
	// d[i][j] is the distance from a[:i] to b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
