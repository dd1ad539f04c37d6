package api

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/exp/apidiff"
	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"
)

// A record is the exported API of a module: the packages' types and the
// objects whose doc comment says "Deprecated: ".
type record struct {
	module     apidiff.Module
	deprecated map[types.Object]bool
}

// skippedDirs are the first path elements, below the module root, of
// packages that have no API to keep: programs, examples and benchmarks.
// Packages under an internal directory, main packages and packages with
// test files alone are skipped too.
var skippedDirs = []string{"cmd", "examples", "bench"}

// public reports whether the package at path, in the module at modPath,
// is one whose API the module keeps.
func public(modPath, path string) bool {
	rel := strings.TrimPrefix(strings.TrimPrefix(path, modPath), "/")
	elems := strings.Split(rel, "/")
	if slices.Contains(skippedDirs, elems[0]) || slices.Contains(elems, "internal") {
		return false
	}
	return true
}

// loadModule type-checks, from source, the public packages of the module
// whose root is dir.
func loadModule(dir string) (*record, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// go test caches a passing result keyed on the files the test itself
	// opened; go list reads the module in another process. Reading every
	// directory here (an entry's size and time are part of the key) makes
	// any change to the module run the check again.
	if err := readTree(dir); err != nil {
		return nil, err
	}

	// Listing first, so that type-checking never builds the dependencies of
	// the programs, examples and benchmarks.
	listed, err := packages.Load(&packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedModule,
		Dir:  dir,
	}, "./...")
	if err != nil {
		return nil, err
	}
	var modPath string
	var paths []string
	for _, p := range listed {
		if err := packageErrors(p); err != nil {
			return nil, err
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		modPath = p.Module.Path
		if p.Name == "main" || len(p.GoFiles) == 0 || !public(modPath, p.PkgPath) {
			continue
		}
		paths = append(paths, p.PkgPath)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no public package in the module at %s", dir)
	}

	loaded, err := packages.Load(&packages.Config{
		Mode: packages.NeedName | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo,
		Dir:  dir,
	}, paths...)
	if err != nil {
		return nil, err
	}
	r := &record{module: apidiff.Module{Path: modPath}, deprecated: map[types.Object]bool{}}
	for _, p := range loaded {
		if err := packageErrors(p); err != nil {
			return nil, err
		}
		r.module.Packages = append(r.module.Packages, p.Types)
		collectDeprecated(p.Syntax, p.TypesInfo, r.deprecated)
	}
	sortPackages(r.module.Packages)
	return r, nil
}

func packageErrors(p *packages.Package) error {
	var errs []error
	for _, e := range p.Errors {
		errs = append(errs, fmt.Errorf("%s: %v", p.PkgPath, e))
	}
	return errors.Join(errs...)
}

// readTree reads every directory of the module at root but .git.
func readTree(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		return nil
	})
}

func sortPackages(pkgs []*types.Package) {
	slices.SortFunc(pkgs, func(a, b *types.Package) int { return strings.Compare(a.Path(), b.Path()) })
}

// collectDeprecated adds to into the objects declared in files whose doc
// comment has a paragraph that starts "Deprecated: ".
func collectDeprecated(files []*ast.File, info *types.Info, into map[types.Object]bool) {
	mark := func(doc *ast.CommentGroup, ids ...*ast.Ident) {
		if !isDeprecated(doc) {
			return
		}
		for _, id := range ids {
			if obj := info.Defs[id]; obj != nil {
				into[obj] = true
			}
		}
	}
	fields := func(list *ast.FieldList) {
		for _, f := range list.List {
			if len(f.Names) > 0 {
				mark(f.Doc, f.Names...)
			} else if id := embeddedName(f.Type); id != nil {
				mark(f.Doc, id)
			}
		}
	}
	for _, file := range files {
		for _, decl := range file.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				mark(decl.Doc, decl.Name)
			case *ast.GenDecl:
				for _, spec := range decl.Specs {
					switch spec := spec.(type) {
					case *ast.TypeSpec:
						mark(specDoc(decl, spec.Doc), spec.Name)
						switch t := spec.Type.(type) {
						case *ast.StructType:
							fields(t.Fields)
						case *ast.InterfaceType:
							fields(t.Methods)
						}
					case *ast.ValueSpec:
						mark(specDoc(decl, spec.Doc), spec.Names...)
					}
				}
			}
		}
	}
}

// specDoc is the doc comment of a spec: its own, or that of an
// unparenthesized declaration.
func specDoc(decl *ast.GenDecl, doc *ast.CommentGroup) *ast.CommentGroup {
	if doc == nil && !decl.Lparen.IsValid() {
		return decl.Doc
	}
	return doc
}

// embeddedName is the identifier under which go/types records an embedded
// field: T, *T, p.T, T[A].
func embeddedName(x ast.Expr) *ast.Ident {
	for {
		switch t := x.(type) {
		case *ast.Ident:
			return t
		case *ast.StarExpr:
			x = t.X
		case *ast.SelectorExpr:
			return t.Sel
		case *ast.IndexExpr:
			x = t.X
		case *ast.IndexListExpr:
			x = t.X
		default:
			return nil
		}
	}
}

func isDeprecated(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for para := range strings.SplitSeq(doc.Text(), "\n\n") {
		if strings.HasPrefix(para, "Deprecated: ") {
			return true
		}
	}
	return false
}

// The files of a record, in a directory: the API as text, one line per
// exported declaration, and the same packages as export data for apidiff.
const (
	textFile   = "v1.txt"
	exportFile = "v1.export"
)

// write writes r's two files into dir.
func (r *record) write(dir string) error {
	var text bytes.Buffer
	for _, line := range r.lines() {
		text.WriteString(line + "\n")
	}
	// The export data starts with the module path, as cmd/apidiff -m -w
	// writes it, so `apidiff -m api/v1.export <module>` reads it too. An
	// empty file set records no positions: the file changes only when the
	// types do.
	var export bytes.Buffer
	export.WriteString(r.module.Path + "\n")
	if err := gcexportdata.WriteBundle(&export, token.NewFileSet(), r.module.Packages); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, textFile), text.Bytes(), 0o666); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, exportFile), export.Bytes(), 0o666)
}

// readRecord reads the two files of a record from dir: the lines of the
// text file, and the packages of the export data (with no deprecations).
func readRecord(dir string) (lines []string, r *record, err error) {
	text, err := os.ReadFile(filepath.Join(dir, textFile))
	if err != nil {
		return nil, nil, err
	}
	for line := range strings.Lines(string(text)) {
		lines = append(lines, strings.TrimRight(line, "\r\n"))
	}
	slices.Sort(lines) // in case of a hand edit
	f, err := os.Open(filepath.Join(dir, exportFile))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	modPath, err := br.ReadString('\n')
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", exportFile, err)
	}
	pkgs, err := gcexportdata.ReadBundle(br, token.NewFileSet(), map[string]*types.Package{})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", exportFile, err)
	}
	sortPackages(pkgs)
	return lines, &record{module: apidiff.Module{Path: strings.TrimSuffix(modPath, "\n"), Packages: pkgs}}, nil
}

// updateCommand rewrites the record from the module's root.
const updateCommand = "LICENSING_API_UPDATE=1 go test ./api"

// compare returns "" when the current API is the recorded one (the lines of
// the text file, and the export data), else what differs: the lines removed
// and added, apidiff's incompatible and compatible changes, and any line on
// which the two recorded files disagree.
func compare(recordedLines []string, recorded, current *record) string {
	removed, added := lineDiff(recordedLines, current.lines())
	var incompatible, compatible []string
	for _, c := range apidiff.ModuleChanges(&recorded.module, &current.module).Changes {
		if c.Compatible {
			compatible = append(compatible, c.Message)
		} else {
			incompatible = append(incompatible, c.Message)
		}
	}
	slices.Sort(incompatible)
	slices.Sort(compatible)
	// The two files are written together; if they disagree, one was edited
	// by hand or merged, and apidiff did not compare what the text says.
	onlyText, onlyExport := lineDiff(withoutDeprecated(recordedLines), recorded.lines())

	// Sections, each a title and tab-indented lines, apart by blank lines.
	var sections []string
	section := func(title string, lists ...[]string) {
		s := title + "\n"
		for _, list := range lists {
			for _, l := range list {
				s += "\t" + l + "\n"
			}
		}
		if s != title+"\n" {
			sections = append(sections, s)
		}
	}
	mark := func(prefix string, lines []string) []string {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = prefix + l
		}
		return out
	}
	section(fmt.Sprintf("Lines of api/%s removed (-) and added (+):", textFile),
		mark("- ", removed), mark("+ ", added))
	section("Incompatible changes, by apidiff (they may break code written for the recorded API):",
		incompatible)
	section("Compatible changes, by apidiff:", compatible)
	section(fmt.Sprintf("api/%s and api/%s do not record the same API (edited by hand, or merged?):", textFile, exportFile),
		mark("only in "+textFile+": ", onlyText), mark("only in "+exportFile+": ", onlyExport))
	return strings.Join(sections, "\n")
}

// failure is the message of a failed check: what differs, then what to do.
func failure(diff string) string {
	return fmt.Sprintf("The exported API differs from the one recorded in api/%s and api/%s.\n\n%s\n"+
		"If the change is intended, rewrite both files from the module's root with\n\n\t%s\n\n"+
		"and record it in CHANGELOG.md, under ## [Unreleased], naming every incompatible change.",
		textFile, exportFile, diff, updateCommand)
}

// lineDiff returns the lines of old that are not in new and those of new
// that are not in old, in order; both lists are sorted.
func lineDiff(old, new []string) (removed, added []string) {
	i, j := 0, 0
	for i < len(old) || j < len(new) {
		switch {
		case j == len(new) || i < len(old) && old[i] < new[j]:
			removed = append(removed, old[i])
			i++
		case i == len(old) || new[j] < old[i]:
			added = append(added, new[j])
			j++
		default:
			i++
			j++
		}
	}
	return removed, added
}

func withoutDeprecated(lines []string) []string {
	return slices.DeleteFunc(slices.Clone(lines), func(l string) bool {
		return strings.HasSuffix(l, " //deprecated")
	})
}
