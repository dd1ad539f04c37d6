package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// completionScript writes the script for shell to a file and returns its
// path, skipping the test if the shell is not installed.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		t.Skipf("%s is not installed: %v", shell, err)
	}
	code, out, errs := runCLI(t, "completion", shell)
	if code != exitOK {
		t.Fatalf("licensing completion %s: exit status %d: %s", shell, code, errs)
	}
	path := filepath.Join(t.TempDir(), "licensing."+shell)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompletionSyntax checks that each script parses in its shell.
func TestCompletionSyntax(t *testing.T) {
	for _, c := range []struct {
		shell string
		check []string
	}{
		{"bash", []string{"bash", "-n"}},
		{"zsh", []string{"zsh", "-n"}},
		{"fish", []string{"fish", "--no-execute"}},
	} {
		t.Run(c.shell, func(t *testing.T) {
			path := completionScript(t, c.shell)
			out, err := exec.Command(c.check[0], append(c.check[1:], path)...).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("%s %s: %v\n%s", strings.Join(c.check, " "), path, err, out)
			}
		})
	}
}

// completionCase is a command line to complete, the word under the cursor
// last, and what the completions must and must not include.
type completionCase struct {
	words []string
	want  []string // among the completions
	not   []string // not among them
	none  bool     // no completions at all
	// split is a command line as bash splits it at : and =; fish and zsh
	// do not split it so.
	split bool
}

// completionCases are the cases every shell's script is driven through:
// those written out here, then one per command of the table for its name
// and its flags.
func completionCases(dir string) []completionCase {
	cases := []completionCase{
		{words: []string{"licensing", ""}, want: []string{"allocate", "order", "orders", "help", "version", "completion"}, not: []string{"assign", "order assign"}},
		{words: []string{"licensing", "or"}, want: []string{"order", "orders"}, not: []string{"allocate"}},
		{words: []string{"licensing", "order", ""}, want: []string{"assign", "cancel", "reject", "request", "show"}, not: []string{"order", "add"}},
		{words: []string{"licensing", "order", "as"}, want: []string{"assign"}, not: []string{"show"}},
		{words: []string{"licensing", "allocate", "--c"}, want: []string{"--company"}, not: []string{"--tier", "--version"}},
		{words: []string{"licensing", "allocate", "ana", "--c"}, want: []string{"--company"}},
		{words: []string{"licensing", "--as", "partner:acme", "order", "as"}, want: []string{"assign"}},
		{words: []string{"licensing", "--as=partner:acme", "--json", "order", ""}, want: []string{"assign"}},
		{words: []string{"licensing", "--as", "partner", ":", "acme", "order", ""}, want: []string{"assign"}, split: true},
		{words: []string{"licensing", "--as", "=", "partner", ":", "acme", "tier", ""}, want: []string{"add"}, split: true},
		{words: []string{"licensing", "--json", "--"}, want: []string{"--version", "--json", "--db", "--as", "--help"}, not: []string{"--company"}},
		{words: []string{"licensing", "orders", "--"}, want: []string{"--status", "--expires-before", "--json", "--help"}, not: []string{"--version", "--reason"}},
		{words: []string{"licensing", "order", "reject", "--reason", "x", "--r"}, want: []string{"--reason"}},
		{words: []string{"licensing", "order", "reject", "--reason", ""}, none: true},
		{words: []string{"licensing", "allocate", "--company", "acme", "ana", ""}, none: true},
		{words: []string{"licensing", "order", "show", "ord_1", ""}, none: true},
		{words: []string{"licensing", "help", ""}, want: []string{"order", "orders", "version"}, not: []string{"help"}},
		{words: []string{"licensing", "help", "order", ""}, want: []string{"assign", "show"}},
		{words: []string{"licensing", "help", "order", "show", ""}, none: true},
		{words: []string{"licensing", "completion", ""}, want: []string{"bash", "zsh", "fish"}},
		{words: []string{"licensing", "completion", "bash", ""}, none: true},
		{words: []string{"licensing", "--db", filepath.Join(dir, "lic")}, want: []string{filepath.Join(dir, "licensing.db")}},
		{words: []string{"licensing", "demo", "--file", filepath.Join(dir, "lic")}, want: []string{filepath.Join(dir, "licensing.db")}},
		{words: []string{"licensing", "allocate", "--company", filepath.Join(dir, "lic")}, none: true},
		{words: []string{"licensing", "orders", "--", ""}, none: true},
	}
	fs := flag.NewFlagSet("licensing", flag.ContinueOnError)
	new(globals).register(fs)
	var global []string
	fs.VisitAll(func(f *flag.Flag) { global = append(global, "--"+f.Name) })
	for _, c := range commands {
		words := append([]string{"licensing"}, strings.Fields(c.name)...)
		last := words[len(words)-1]
		// Its name from the first letter of its last word.
		cases = append(cases, completionCase{words: append(slices.Clone(words[:len(words)-1]), last[:1]), want: []string{last}})
		// Its flags, and the global ones.
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.setup(fs)
		want := append(slices.Clone(global), "--help")
		fs.VisitAll(func(f *flag.Flag) { want = append(want, "--"+f.Name) })
		cases = append(cases, completionCase{words: append(words, "--"), want: want, not: []string{"--version"}})
	}
	return cases
}

// checkCompletions checks what a shell completed for each case.
func checkCompletions(t *testing.T, cases []completionCase, got [][]string) {
	t.Helper()
	if len(got) != len(cases) {
		t.Fatalf("%d results for %d cases", len(got), len(cases))
	}
	for i, c := range cases {
		line := strings.Join(c.words, " ")
		for _, w := range c.want {
			if !slices.Contains(got[i], w) {
				t.Errorf("%q: %q is not among the completions %q", line, w, got[i])
			}
		}
		for _, w := range c.not {
			if slices.Contains(got[i], w) {
				t.Errorf("%q: %q is among the completions %q", line, w, got[i])
			}
		}
		if c.none && len(got[i]) > 0 {
			t.Errorf("%q: completions %q, want none", line, got[i])
		}
	}
}

// completionFiles makes a directory with a licensing.db in it, for the
// cases completing a file.
func completionFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "licensing.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// results splits a shell's output into one list of words per case, the
// cases separated by lines "--end--".
func results(out []byte) [][]string {
	var got [][]string
	var cur []string
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSuffix(line, "\n")
		if line == "--end--" {
			got = append(got, cur)
			cur = nil
			continue
		}
		if word, _, _ := strings.Cut(line, "\t"); word != "" {
			cur = append(cur, word)
		}
	}
	return got
}

// TestBashCompletion drives the bash script's completion function the way
// bash does, setting COMP_WORDS and COMP_CWORD (and COMP_LINE and
// COMP_POINT, which bash-completion's _get_comp_words_by_ref reads), in a
// bash without bash-completion and, if it is installed, in one with it.
func TestBashCompletion(t *testing.T) {
	path := completionScript(t, "bash")
	dir := completionFiles(t)
	for _, mode := range []struct {
		name    string
		prelude string
	}{
		{"Plain", ""},
		{"BashCompletion", "/usr/share/bash-completion/bash_completion"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			var script bytes.Buffer
			if mode.prelude != "" {
				if _, err := os.Stat(mode.prelude); err != nil {
					t.Skipf("bash-completion is not installed: %v", err)
				}
				script.WriteString("source " + shQuote(mode.prelude) + "\n")
			}
			script.WriteString("source " + shQuote(path) + "\n")
			script.WriteString(`t() {
	COMP_LINE=$1
	COMP_POINT=${#1}
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_licensing
	if ((${#COMPREPLY[@]})); then
		printf '%s\n' "${COMPREPLY[@]}"
	fi
	echo --end--
}
`)
			cases := completionCases(dir)
			for _, c := range cases {
				// The line as typed: no spaces around the : and = that
				// bash split it at.
				line := strings.Join(c.words, " ")
				if c.split {
					line = strings.NewReplacer(" : ", ":", " = ", "=").Replace(line)
				}
				script.WriteString("t " + shQuote(line))
				for _, w := range c.words {
					script.WriteString(" " + shQuote(w))
				}
				script.WriteString("\n")
			}
			cmd := exec.Command("bash", "--norc", "--noprofile")
			cmd.Stdin = &script
			cmd.Stderr = new(bytes.Buffer)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, cmd.Stderr)
			}
			if s := cmd.Stderr.(*bytes.Buffer).String(); s != "" {
				t.Errorf("bash wrote on stderr:\n%s", s)
			}
			checkCompletions(t, cases, results(out))
		})
	}
}

// TestFishCompletion asks fish itself what it completes, with complete -C.
func TestFishCompletion(t *testing.T) {
	path := completionScript(t, "fish")
	dir := completionFiles(t)
	var cases []completionCase
	var lines []string
	for _, c := range completionCases(dir) {
		if !c.split {
			cases = append(cases, c)
			lines = append(lines, strings.Join(c.words, " "))
		}
	}
	cmd := exec.Command("fish", append([]string{"--no-config", "-c",
		`source $argv[1]; for line in $argv[2..-1]; complete -C $line; echo --end--; end`, path}, lines...)...)
	cmd.Stderr = new(bytes.Buffer)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fish: %v\n%s", err, cmd.Stderr)
	}
	if s := cmd.Stderr.(*bytes.Buffer).String(); s != "" {
		t.Errorf("fish wrote on stderr:\n%s", s)
	}
	checkCompletions(t, cases, results(out))
}

// TestZshCompletion runs the zsh script's completion function with words
// and CURRENT set as zsh sets them, and the completion system's functions
// it calls (_describe, _files, compdef) replaced by ones that print the
// candidates matching the word under the cursor. Those need a terminal
// and the completion system loaded, which a test does not have.
func TestZshCompletion(t *testing.T) {
	path := completionScript(t, "zsh")
	dir := completionFiles(t)
	var script bytes.Buffer
	script.WriteString(`compdef() { }
_describe() {
	local e
	for e in "${(@P)${@[-1]}}"; do
		e=${e%%:*}
		[[ $e == "${words[CURRENT]}"* ]] && print -r -- $e
	done
}
_files() { print -rl -- ${words[CURRENT]}*(N) }
source ` + shQuote(path) + `
t() {
	words=("$@")
	CURRENT=$#
	_licensing
	print -- --end--
}
`)
	var cases []completionCase
	for _, c := range completionCases(dir) {
		if c.split {
			continue
		}
		cases = append(cases, c)
		script.WriteString("t")
		for _, w := range c.words {
			script.WriteString(" " + shQuote(w))
		}
		script.WriteString("\n")
	}
	cmd := exec.Command("zsh", "-f")
	cmd.Stdin = &script
	cmd.Stderr = new(bytes.Buffer)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zsh: %v\n%s", err, cmd.Stderr)
	}
	if s := cmd.Stderr.(*bytes.Buffer).String(); s != "" {
		t.Errorf("zsh wrote on stderr:\n%s", s)
	}
	checkCompletions(t, cases, results(out))
}
