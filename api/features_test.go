package api

import (
	"fmt"
	"go/types"
	"slices"
	"strings"
)

// lines returns the API of r's packages, sorted, one line per exported
// declaration, in the format of Go's own api/go1.*.txt (written by
// cmd/api): "pkg PATH, func New(Store, *Config) (*Ledger, error)". A type
// parameter is written $N, its index, as its name may change; byte and
// rune are written uint8 and int32, an untyped constant's type ideal-int.
func (r *record) lines() []string {
	var lines []string
	for _, pkg := range r.module.Packages {
		w := &featureWriter{pkg: pkg, deprecated: r.deprecated}
		scope := pkg.Scope()
		for _, name := range scope.Names() {
			if obj := scope.Lookup(name); obj.Exported() {
				w.object(obj)
			}
		}
		lines = append(lines, w.lines...)
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

// A featureWriter writes the lines of one package.
type featureWriter struct {
	pkg        *types.Package
	deprecated map[types.Object]bool
	lines      []string
}

// emit adds a line; in is the declaration the line is part of
// ("type Order struct"), or "".
func (w *featureWriter) emit(in, format string, args ...any) {
	line := "pkg " + w.pkg.Path() + ", "
	if in != "" {
		line += in + ", "
	}
	w.lines = append(w.lines, line+fmt.Sprintf(format, args...))
}

// emitDeprecated adds the line "<what> //deprecated" when obj is deprecated.
func (w *featureWriter) emitDeprecated(in string, obj types.Object, what string) {
	if w.deprecated[obj] {
		w.emit(in, "%s //deprecated", what)
	}
}

func (w *featureWriter) object(obj types.Object) {
	name := obj.Name()
	switch obj := obj.(type) {
	case *types.Const:
		w.emitDeprecated("", obj, "const "+name)
		w.emit("", "const %s %s", name, w.typ(obj.Type()))
		short, exact := obj.Val().String(), obj.Val().ExactString()
		if short == exact {
			w.emit("", "const %s = %s", name, short)
		} else {
			w.emit("", "const %s = %s  // %s", name, short, exact)
		}
	case *types.Var:
		w.emitDeprecated("", obj, "var "+name)
		w.emit("", "var %s %s", name, w.typ(obj.Type()))
	case *types.Func:
		w.emitDeprecated("", obj, "func "+name)
		w.emit("", "func %s%s", name, w.signature(obj.Signature()))
	case *types.TypeName:
		w.typeName(obj)
	default:
		panic(fmt.Sprintf("unexpected object %v", obj))
	}
}

func (w *featureWriter) typeName(obj *types.TypeName) {
	name := obj.Name()
	w.emitDeprecated("", obj, "type "+name)
	if obj.IsAlias() {
		w.emit("", "type %s = %s", name, w.typ(obj.Type()))
		return
	}
	named := obj.Type().(*types.Named)
	if tparams := named.TypeParams(); tparams != nil {
		name += w.typeParams(tparams, true)
	}
	switch u := named.Underlying().(type) {
	case *types.Struct:
		in := "type " + name + " struct"
		w.emit("", "%s", in)
		for f := range u.Fields() {
			if !f.Exported() {
				continue
			}
			if f.Embedded() {
				w.emitDeprecated(in, f, "embedded "+w.typ(f.Type()))
				w.emit(in, "embedded %s", w.typ(f.Type()))
				continue
			}
			w.emitDeprecated(in, f, f.Name())
			w.emit(in, "%s %s", f.Name(), w.typ(f.Type()))
		}
	case *types.Interface:
		w.iface(name, u)
		return // an interface's methods are its lines
	default:
		w.emit("", "type %s %s", name, w.typ(u))
	}

	// The methods of T, then those of *T that T lacks; promoted methods too.
	seen := map[string]bool{}
	for _, t := range []types.Type{named, types.NewPointer(named)} {
		mset := types.NewMethodSet(t)
		for m := range mset.Methods() {
			if !m.Obj().Exported() || seen[m.Obj().Name()] {
				continue
			}
			seen[m.Obj().Name()] = true
			w.method(m)
		}
	}
}

// iface writes an interface's methods, then either its method names or,
// when it has unexported methods (only its own package can implement it,
// so it may grow), "unexported methods".
func (w *featureWriter) iface(name string, t *types.Interface) {
	in := "type " + name + " interface"
	var names []string
	sealed := false
	mset := types.NewMethodSet(t)
	for sel := range mset.Methods() {
		m := sel.Obj().(*types.Func)
		if !m.Exported() {
			sealed = true
			continue
		}
		names = append(names, m.Name())
		w.emitDeprecated(in, m, m.Name())
		w.emit(in, "%s%s", m.Name(), w.signature(m.Signature()))
	}
	switch {
	case sealed:
		w.emit(in, "unexported methods")
	case len(names) == 0:
		w.emit("", "type %s interface {}", name)
	default:
		slices.Sort(names)
		w.emit("", "type %s interface { %s }", name, strings.Join(names, ", "))
	}
}

func (w *featureWriter) method(m *types.Selection) {
	sig := m.Type().(*types.Signature)
	recv := w.typ(sig.Recv().Type())
	if rparams := sig.RecvTypeParams(); rparams != nil {
		recv += w.typeParams(rparams, false)
	}
	name := m.Obj().Name()
	w.emitDeprecated("", m.Obj(), fmt.Sprintf("method (%s) %s", recv, name))
	w.emit("", "method (%s) %s%s", recv, name, w.signature(sig))
}

// typ writes t as cmd/api does: a type of another package qualified by
// that package's name, aliases resolved, struct types as "struct".
func (w *featureWriter) typ(t types.Type) string {
	var b strings.Builder
	w.writeType(&b, t)
	return b.String()
}

func (w *featureWriter) writeType(b *strings.Builder, t types.Type) {
	switch t := t.(type) {
	case *types.Basic:
		b.WriteString(basicName(t))
	case *types.Array:
		fmt.Fprintf(b, "[%d]", t.Len())
		w.writeType(b, t.Elem())
	case *types.Slice:
		b.WriteString("[]")
		w.writeType(b, t.Elem())
	case *types.Struct:
		b.WriteString("struct")
	case *types.Pointer:
		b.WriteString("*")
		w.writeType(b, t.Elem())
	case *types.Signature:
		b.WriteString("func")
		b.WriteString(w.signature(t))
	case *types.Interface:
		var elems []string
		for m := range t.Methods() {
			elems = append(elems, m.Name())
		}
		slices.Sort(elems)
		embeddeds := w.embeddeds(t)
		slices.Sort(embeddeds)
		elems = append(elems, embeddeds...)
		if len(elems) == 0 {
			b.WriteString("interface{}")
		} else {
			fmt.Fprintf(b, "interface{ %s }", strings.Join(elems, ", "))
		}
	case *types.Map:
		b.WriteString("map[")
		w.writeType(b, t.Key())
		b.WriteString("]")
		w.writeType(b, t.Elem())
	case *types.Chan:
		switch t.Dir() {
		case types.SendOnly:
			b.WriteString("chan<- ")
		case types.RecvOnly:
			b.WriteString("<-chan ")
		default:
			b.WriteString("chan ")
		}
		w.writeType(b, t.Elem())
	case *types.Alias:
		w.writeType(b, types.Unalias(t))
	case *types.Named:
		if pkg := t.Obj().Pkg(); pkg != nil && pkg != w.pkg {
			b.WriteString(pkg.Name() + ".")
		}
		b.WriteString(t.Obj().Name())
		if targs := t.TypeArgs(); targs.Len() > 0 {
			b.WriteString("[")
			for i := range targs.Len() {
				if i > 0 {
					b.WriteString(", ")
				}
				w.writeType(b, targs.At(i))
			}
			b.WriteString("]")
		}
	case *types.TypeParam:
		fmt.Fprintf(b, "$%d", t.Index())
	default:
		panic(fmt.Sprintf("unexpected type %T", t))
	}
}

// embeddeds returns the type-set terms an interface embeds ("~int |
// ~string"), through embedded interfaces.
func (w *featureWriter) embeddeds(t *types.Interface) []string {
	var list []string
	for e := range t.EmbeddedTypes() {
		switch e := e.(type) {
		case *types.Interface:
			list = append(list, w.embeddeds(e)...)
		case *types.Union:
			var terms []string
			for term := range e.Terms() {
				s := w.typ(term.Type())
				if term.Tilde() {
					s = "~" + s
				}
				terms = append(terms, s)
			}
			list = append(list, strings.Join(terms, " | "))
		}
	}
	return list
}

func basicName(t *types.Basic) string {
	switch t.Kind() {
	case types.UnsafePointer:
		return "unsafe.Pointer"
	case types.UntypedBool:
		return "ideal-bool"
	case types.UntypedInt:
		return "ideal-int"
	case types.UntypedRune:
		return "ideal-char"
	case types.UntypedFloat:
		return "ideal-float"
	case types.UntypedComplex:
		return "ideal-complex"
	case types.UntypedString:
		return "ideal-string"
	}
	switch t.Name() {
	case "byte":
		return "uint8"
	case "rune":
		return "int32"
	}
	return t.Name()
}

// signature writes a function's type parameters, parameters and results,
// without names.
func (w *featureWriter) signature(sig *types.Signature) string {
	var s string
	if tparams := sig.TypeParams(); tparams != nil {
		s = w.typeParams(tparams, true)
	}
	s += w.params(sig.Params(), sig.Variadic())
	switch res := sig.Results(); res.Len() {
	case 0:
	case 1:
		s += " " + w.typ(res.At(0).Type())
	default:
		s += " " + w.params(res, false)
	}
	return s
}

func (w *featureWriter) typeParams(list *types.TypeParamList, constraints bool) string {
	var parts []string
	for tp := range list.TypeParams() {
		s := w.typ(tp)
		if constraints {
			s += " " + w.typ(tp.Constraint())
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (w *featureWriter) params(t *types.Tuple, variadic bool) string {
	var parts []string
	for i := range t.Len() {
		typ := t.At(i).Type()
		prefix := ""
		if variadic && i == t.Len()-1 {
			prefix = "..."
			typ = typ.(*types.Slice).Elem()
		}
		parts = append(parts, prefix+w.typ(typ))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
