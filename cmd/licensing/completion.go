package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// The completion scripts are generated from the command table, so that a
// command added to it completes with no change here. The three scripts
// share one plan: walk the words before the cursor, skipping flags and the
// values of the flags that take one, to find the command typed so far
// ("", "order", "order assign", "help order"); then the word under the
// cursor is a flag of that command, the value of a flag (a file for --db
// and --file, nothing otherwise), a word that continues the command's name,
// or its first argument (the shell, for completion).

// shells are the shells "licensing completion" writes a script for.
var shells = []struct {
	name  string
	write func(w io.Writer, d completionData)
}{
	{"bash", writeBash},
	{"zsh", writeZsh},
	{"fish", writeFish},
}

func completion(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "SHELL"); err != nil {
			return nil, err
		}
		for _, sh := range shells {
			if sh.name == args[0] {
				sh.write(e.stdout, newCompletionData())
				return nil, nil
			}
		}
		return nil, usageErr("shell", "%q is not bash, zsh or fish", args[0])
	}
}

// completionEntry is a word to complete with its one-line help. A flag is
// "--name", "--name=" if it takes a value, or "--name=file" if its value is
// a file.
type completionEntry struct {
	word string
	help string
}

// completionData is what the scripts complete, keyed by the command typed
// so far: "" before any, a group ("order") or help ("help", "help order")
// before a whole command, or a command ("order assign").
type completionData struct {
	words map[string][]completionEntry // the words that continue the name
	flags map[string][]completionEntry // a command's flags, and the global ones
	args  map[string][]completionEntry // the words for a command's first argument
	// other is the flags after a word that is not a whole command: a
	// group, help, or a mistake.
	other []completionEntry
}

func newCompletionData() completionData {
	d := completionData{
		words: map[string][]completionEntry{},
		flags: map[string][]completionEntry{},
		args:  map[string][]completionEntry{},
	}
	fs := flag.NewFlagSet("licensing", flag.ContinueOnError)
	new(globals).register(fs)
	global := flagEntries(fs)
	d.other = append(slices.Clone(global), completionEntry{"--help", "print the help"})
	d.flags[""] = append(slices.Clone(d.other), completionEntry{"--version", "print the version"})

	var top []completionEntry
	for _, c := range commands {
		word, second, two := strings.Cut(c.name, " ")
		if two {
			d.words[word] = append(d.words[word], completionEntry{second, c.help})
		} else {
			top = append(top, completionEntry{word, c.help})
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.setup(fs)
		d.flags[c.name] = append(append(flagEntries(fs), global...), completionEntry{"--help", "print the command's help"})
	}
	for _, g := range groups() {
		var subs []string
		for _, e := range d.words[g] {
			subs = append(subs, e.word)
		}
		slices.Sort(subs)
		top = append(top, completionEntry{g, "commands: " + strings.Join(subs, ", ")})
		d.words["help "+g] = d.words[g]
	}
	d.words["help"] = slices.Clone(top)
	d.words[""] = append(top, completionEntry{"help", "print the help of a command"})
	for _, sh := range shells {
		d.args["completion"] = append(d.args["completion"], completionEntry{sh.name, "a completion script for " + sh.name})
	}
	for _, m := range []map[string][]completionEntry{d.words, d.flags, d.args} {
		for _, es := range m {
			slices.SortFunc(es, func(a, b completionEntry) int { return strings.Compare(a.word, b.word) })
		}
	}
	return d
}

// flagEntries returns the flags of fs, sorted by name.
func flagEntries(fs *flag.FlagSet) []completionEntry {
	var out []completionEntry
	fs.VisitAll(func(f *flag.Flag) {
		valueName, usage := flag.UnquoteUsage(f)
		word := "--" + f.Name
		switch {
		case valueName == "":
			// A boolean flag takes no value.
		case f.Name == "db" || valueName == "file":
			// --db is a SQLite file, unless a postgres:// URL.
			word += "=file"
		default:
			word += "="
		}
		help, _, _ := strings.Cut(usage, "\n")
		out = append(out, completionEntry{word, help})
	})
	return out
}

// shQuote quotes s for bash and zsh.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// writeShCases writes a bash or zsh function that sets the array reply
// to the entries of m for the key in its first argument, and to those of
// def for any other key, each entry as entry formats it. It sets a variable
// rather than printing, so that a completion forks no subshell.
func writeShCases(w io.Writer, name, doc string, m map[string][]completionEntry, def []completionEntry, entry func(completionEntry) string) {
	fmt.Fprintf(w, "# %s %s\n%s() {\n\tcase $1 in\n", name, doc, name)
	branch := func(pattern string, es []completionEntry) {
		fmt.Fprintf(w, "\t%s)\n\t\treply=(", pattern)
		for _, e := range es {
			fmt.Fprintf(w, "\n\t\t\t%s", shQuote(entry(e)))
		}
		fmt.Fprint(w, "\n\t\t)\n\t\t;;\n")
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		branch(shQuote(k), m[k])
	}
	if def == nil {
		def = []completionEntry{}
	}
	branch("*", def)
	fmt.Fprint(w, "\tesac\n}\n\n")
}

// writeFishCases writes a fish function that prints the entries of m for
// the key in its first argument, and those of def for any other key, each
// as word<tab>help on a line.
func writeFishCases(w io.Writer, name, doc string, m map[string][]completionEntry, def []completionEntry) {
	fmt.Fprintf(w, "# %s %s\nfunction %s\n    switch $argv[1]\n", name, doc, name)
	branch := func(pattern string, es []completionEntry) {
		fmt.Fprintf(w, "        case %s\n            printf '%%s\\t%%s\\n'", pattern)
		for _, e := range es {
			fmt.Fprintf(w, " \\\n                %s %s", fishQuote(e.word), fishQuote(e.help))
		}
		fmt.Fprintln(w)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		branch(fishQuote(k), m[k])
	}
	if def != nil {
		branch("'*'", def)
	}
	fmt.Fprint(w, "    end\nend\n\n")
}

func writeBash(w io.Writer, d completionData) {
	fmt.Fprint(w, `# bash completion for licensing, generated by "licensing completion bash".
# To load it in every shell, add this line to ~/.bashrc:
#
#	source <(licensing completion bash)

`)
	word := func(e completionEntry) string { return e.word }
	writeShCases(w, "_licensing_words", "sets reply to the words that continue the command $1.", d.words, nil, word)
	writeShCases(w, "_licensing_flags", "sets reply to the flags of the command $1: --name, --name= if it takes a value, --name=file if a file.", d.flags, d.other, word)
	writeShCases(w, "_licensing_args", "sets reply to the words for the first argument of the command $1.", d.args, nil, word)
	fmt.Fprint(w, `_licensing() {
	local cur words cword i
	if declare -F _get_comp_words_by_ref >/dev/null; then
		# bash-completion's, which keeps --as partner:acme one word.
		_get_comp_words_by_ref -n =: cur words cword
	else
		# Join what bash split at = and :, as in --as partner:acme.
		words=() cword=0
		local j=-1
		for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
			if ((j >= 0)) && [[ ${COMP_WORDS[i]} == [=:] || ${COMP_WORDS[i - 1]} == [=:] ]]; then
				words[j]+=${COMP_WORDS[i]}
			else
				words[++j]=${COMP_WORDS[i]}
			fi
			if ((i == COMP_CWORD)); then
				cword=$j
			fi
		done
		cur=${words[cword]}
	fi
	# The command typed so far, less the flags and their values.
	local cmd='' value='' named='' dashdash='' nargs=0 w f e
	local -a reply list
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ -n $value ]]; then
			value=''
			continue
		fi
		if [[ -n $dashdash ]]; then
			((nargs++))
			continue
		fi
		case $w in
		--) dashdash=1 ;;
		-*=*) ;;
		-*)
			f=--${w#"${w%%[!-]*}"}
			_licensing_flags "$cmd"
			for e in "${reply[@]}"; do
				if [[ $e == "$f="* ]]; then
					value=$e
				fi
			done
			;;
		*)
			if [[ -z $named ]]; then
				_licensing_words "$cmd"
				for e in "${reply[@]}"; do
					if [[ $e == "$w" ]]; then
						cmd=${cmd:+$cmd }$w
						continue 2
					fi
				done
			fi
			named=1
			((nargs++))
			;;
		esac
	done
	COMPREPLY=()
	if [[ -n $value ]]; then
		if [[ $value == *=file ]]; then
			compopt -o filenames 2>/dev/null
			local IFS=$'\n'
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
	fi
	list=()
	if [[ $cur == -* && -z $dashdash ]]; then
		_licensing_flags "$cmd"
		list=("${reply[@]%%=*}")
	else
		if [[ -z $named && -z $dashdash ]]; then
			_licensing_words "$cmd"
			list=("${reply[@]}")
		fi
		if ((nargs == 0)); then
			_licensing_args "$cmd"
			list+=("${reply[@]}")
		fi
	fi
	for e in "${list[@]}"; do
		if [[ $e == "$cur"* ]]; then
			COMPREPLY+=("$e")
		fi
	done
}

complete -F _licensing licensing
`)
}

func writeZsh(w io.Writer, d completionData) {
	fmt.Fprint(w, `#compdef licensing
# zsh completion for licensing, generated by "licensing completion zsh".
# To load it in every shell, add this line to ~/.zshrc, after compinit:
#
#	source <(licensing completion zsh)
#
# or save the script as _licensing in a directory of $fpath.

`)
	entry := func(e completionEntry) string { return e.word + ":" + e.help }
	writeShCases(w, "_licensing_words", "sets reply to the words that continue the command $1, as word:help.", d.words, nil, entry)
	writeShCases(w, "_licensing_flags", "sets reply to the flags of the command $1 as --name:help, --name=:help if it takes a value, --name=file:help if a file.", d.flags, d.other, entry)
	writeShCases(w, "_licensing_args", "sets reply to the words for the first argument of the command $1, as word:help.", d.args, nil, entry)
	fmt.Fprint(w, `_licensing() {
	local cmd='' value='' named='' dashdash='' nargs=0 w f e i
	local -a reply list
	# The command typed so far, less the flags and their values.
	for ((i = 2; i < CURRENT; i++)); do
		w=${words[i]}
		if [[ -n $value ]]; then
			value=''
			continue
		fi
		if [[ -n $dashdash ]]; then
			((nargs++))
			continue
		fi
		case $w in
		(--) dashdash=1 ;;
		(-*=*) ;;
		(-*)
			f=--${w#"${w%%[!-]*}"}
			_licensing_flags "$cmd"
			for e in "${reply[@]}"; do
				if [[ ${e%%:*} == "$f="* ]]; then
					value=${e%%:*}
				fi
			done
			;;
		(*)
			if [[ -z $named ]]; then
				_licensing_words "$cmd"
				for e in "${reply[@]}"; do
					if [[ ${e%%:*} == "$w" ]]; then
						cmd=${cmd:+$cmd }$w
						continue 2
					fi
				done
			fi
			named=1
			((nargs++))
			;;
		esac
	done
	if [[ -n $value ]]; then
		if [[ $value == *=file ]]; then
			_files
		fi
		return
	fi
	if [[ ${words[CURRENT]} == -* && -z $dashdash ]]; then
		_licensing_flags "$cmd"
		list=()
		for e in "${reply[@]}"; do
			list+=("${${e%%:*}%%=*}:${e#*:}")
		done
		_describe -t flags flag list
		return
	fi
	list=()
	if [[ -z $named && -z $dashdash ]]; then
		_licensing_words "$cmd"
		list+=("${reply[@]}")
	fi
	if ((nargs == 0)); then
		_licensing_args "$cmd"
		list+=("${reply[@]}")
	fi
	if ((${#list})); then
		_describe -t commands command list
	fi
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
	_licensing "$@"
else
	compdef _licensing licensing
fi
`)
}

func writeFish(w io.Writer, d completionData) {
	fmt.Fprint(w, `# fish completion for licensing, generated by "licensing completion fish".
# To load it in every shell, save it in fish's completions directory:
#
#	licensing completion fish > ~/.config/fish/completions/licensing.fish

`)
	writeFishCases(w, "__licensing_words", "prints the words that continue the command $argv[1], as word<tab>help.", d.words, nil)
	writeFishCases(w, "__licensing_flags", "prints the flags of the command $argv[1] as --name<tab>help, --name=<tab>help if it takes a value, --name=file<tab>help if a file.", d.flags, d.other)
	writeFishCases(w, "__licensing_args", "prints the words for the first argument of the command $argv[1], as word<tab>help.", d.args, nil)
	fmt.Fprint(w, `# __licensing_complete prints the completions of the word under the cursor.
function __licensing_complete
    set -l cmd ''
    set -l value ''
    set -l named ''
    set -l dashdash ''
    set -l nargs 0
    # The command typed so far, less the flags and their values.
    for w in (commandline -opc)[2..-1]
        if test -n "$value"
            set value ''
            continue
        end
        if test -n "$dashdash"
            set nargs (math $nargs + 1)
            continue
        end
        switch $w
            case --
                set dashdash 1
            case '-*=*'
            case '-*'
                set -l f --(string trim --left --chars=- -- $w)
                for e in (__licensing_flags "$cmd")
                    set -l name (string split --max 1 \t -- $e)[1]
                    if string match --quiet -- "$f=*" $name
                        set value $name
                    end
                end
            case '*'
                if test -z "$named"
                    set -l found ''
                    for e in (__licensing_words "$cmd")
                        if test (string split --max 1 \t -- $e)[1] = "$w"
                            set found 1
                        end
                    end
                    if test -n "$found"
                        set cmd (string trim -- "$cmd $w")
                        continue
                    end
                end
                set named 1
                set nargs (math $nargs + 1)
        end
    end
    set -l cur (commandline -ct)
    if test -n "$value"
        if string match --quiet -- '*=file' $value
            __fish_complete_path $cur
        end
        return
    end
    if string match --quiet -- '-*' $cur; and test -z "$dashdash"
        __licensing_flags "$cmd" | string replace --regex '^([^\t=]*)=[^\t]*' '$1'
        return
    end
    if test -z "$named"; and test -z "$dashdash"
        __licensing_words "$cmd"
    end
    if test $nargs -eq 0
        __licensing_args "$cmd"
    end
end

complete --command licensing --no-files --arguments '(__licensing_complete)'
`)
}
