package v1

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// This file resolves the ldms-test format the way LDMS_Test.py's Spec
// class does, with lvc's own code: first every dict's "!extends" chain is
// applied (expand), then every %NAME% in a string is replaced
// (substitute).

// Limits of the expansion, against specs that would never finish or fill
// the memory.
const (
	// maxExtendDepth is the deepest nesting of values under spec.nodes,
	// the Python module's Spec.MAX_DEPTH: a template whose nested value
	// extends the template again stops there.
	maxExtendDepth = 64
	// maxExpanded bounds the values that expanding all nodes makes:
	// templates that list templates multiply.
	maxExpanded = maxNodes
	// maxSubstRounds bounds the rounds of substitution of one string
	// (the Python module means to stop at 128 too).
	maxSubstRounds = 128
	// maxSubstLen bounds the length of a substituted string.
	maxSubstLen = 1 << 20
)

// refs calls fn for each %NAME% reference of s, left to right, with its
// start and end offsets: NAME is letters, digits, '.', '_' and '-',
// possibly none (%% stands for "%"), as the Python module's Spec.VAR_RE
// %([0-9a-zA-Z-._]*)% finds them. fn returns false to stop.
func refs(s string, fn func(start, end int, name string) bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(s) && isVarByte(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '%' {
			if !fn(i, j+1, s[i+1:j]) {
				return
			}
			i = j
		}
	}
}

func isVarByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-'
}

// firstRef returns the first %NAME% of s, or "".
func firstRef(s string) string {
	out := ""
	refs(s, func(i, j int, _ string) bool {
		out = s[i:j]
		return false
	})
	return out
}

// conventionalVars are the attributes that ldms-test specs set on nodes
// (component_id) and daemons (offset) for %component_id% and %offset%
// references, and often keep where no reference is left.
var conventionalVars = map[string]bool{"component_id": true, "offset": true}

// extraAllowed is the rule for an attribute outside the schema of the
// object that holds it (the spec, a node, a daemon, a sampler, ...). The
// Python module takes every string, number or boolean attribute as a
// variable that %NAME% references in the object and the objects inside it
// are replaced by, so specs carry attributes that only exist for that:
// component_id on a node, offset on an aggregator daemon. Such an
// attribute is accepted when its value is a string, number or boolean and
// some %NAME% anywhere in the spec (templates included) refers to it, or
// when it is component_id or offset. Anything else is an unknown field: a
// misspelled field (intervl) has no reference, and a list or dict can
// never be a variable.
func extraAllowed(key string, v any, refs map[string]bool) bool {
	return isPrimitive(v) && (refs[key] || conventionalVars[key])
}

// unknownFieldMsg is the error for an attribute extraAllowed refuses.
func unknownFieldMsg(key string) string {
	return fmt.Sprintf("unknown field (an attribute outside the schema must be a string, number or boolean that some %%%s%% in the spec refers to; component_id and offset need no reference)", key)
}

// collectRefs adds the names that the %NAME% references in the strings
// of v refer to.
func collectRefs(v any, names map[string]bool) {
	switch x := v.(type) {
	case string:
		refs(x, func(_, _ int, name string) bool {
			if name != "" {
				names[name] = true
			}
			return true
		})
	case []any:
		for _, e := range x {
			collectRefs(e, names)
		}
	case map[string]any:
		for _, e := range x {
			collectRefs(e, names)
		}
	case *Dict:
		if x != nil {
			for _, e := range x.vals {
				collectRefs(e, names)
			}
		}
	}
}

// isNodeFormat tells whether a generic spec dict is in the ldms-test
// format.
func isNodeFormat(spec map[string]any) bool {
	_, n := spec["nodes"]
	_, t := spec["templates"]
	return n || t
}

// resolver expands and substitutes the nodes of one spec, reporting each
// problem once however many nodes meet it.
type resolver struct {
	templates *Dict
	top       map[string]any // the spec's variables
	e         *errs
	reported  map[string]bool
	count     int
	overflow  bool
}

// add reports msg at path, with where it was written when that is
// elsewhere (a template); a problem written once is reported once.
func (r *resolver) add(path, src, msg string) {
	if r.reported == nil {
		r.reported = map[string]bool{}
	}
	key := src + "\x00" + msg
	if r.reported[key] {
		return
	}
	r.reported[key] = true
	if src != "" && src != path {
		msg += " (written at " + src + ")"
	}
	r.e.add(path, "%s", msg)
}

// srcOf is where the value of key of d was written, d being written at src.
func srcOf(d *Dict, key, src string) string {
	if s, ok := d.src[key]; ok {
		return s
	}
	return field(src, key)
}

// expand returns a copy of v, found at path and written at src, where
// every dict is replaced by the merge of its "!extends" chain: the
// templates' attributes, base first, overridden by the dict's own, in
// Python's dict order (the base's keys first, each later layer's new keys
// after). "!extends" itself is dropped. A false, empty or null "!extends"
// extends nothing, as in Python.
func (r *resolver) expand(v any, path, src string, lvl int) any {
	if r.overflow {
		return nil
	}
	r.count++
	if r.count > maxExpanded {
		r.overflow = true
		r.e.add("spec.nodes", "expanding the templates makes more than %d values", maxExpanded)
		return nil
	}
	if lvl > maxExtendDepth {
		r.add(path, src, fmt.Sprintf("nested deeper than %d levels under spec.nodes (does a template extend itself through a nested value?)", maxExtendDepth))
		return nil
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.expand(e, index(path, i), index(src, i), lvl+1)
		}
		return out
	case *Dict:
		if x == nil {
			return nil
		}
		layers, srcs := []*Dict{x}, []string{src}
		ext, ok := x.vals["!extends"]
		extSrc := srcOf(x, "!extends", src)
		seen := map[string]bool{}
		for ok && truthy(ext) {
			name, isStr := ext.(string)
			if !isStr {
				r.add(field(path, "!extends"), extSrc, fmt.Sprintf("expected a template name, got %s", kindOf(ext)))
				break
			}
			if seen[name] {
				r.add(field(path, "!extends"), extSrc, fmt.Sprintf("template %q extends itself", name))
				break
			}
			seen[name] = true
			t, found := r.templates.Get(name)
			if !found {
				r.add(field(path, "!extends"), extSrc, fmt.Sprintf("no template %q in spec.templates", name))
				break
			}
			td, isDict := t.(*Dict)
			if !isDict || td == nil {
				break // reported for spec.templates
			}
			tsrc := field("spec.templates", name)
			layers, srcs = append(layers, td), append(srcs, tsrc)
			ext, ok = td.vals["!extends"]
			extSrc = field(tsrc, "!extends")
		}
		out := &Dict{vals: map[string]any{}, src: map[string]string{}}
		for i := len(layers) - 1; i >= 0; i-- {
			for _, k := range layers[i].keys {
				if k == "!extends" {
					continue
				}
				out.Set(k, layers[i].vals[k])
				out.src[k] = srcOf(layers[i], k, srcs[i])
			}
		}
		for _, k := range out.keys {
			out.vals[k] = r.expand(out.vals[k], field(path, k), out.src[k], lvl+1)
		}
		return out
	}
	return v
}

// truthy is Python's truth of a primitive or null.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case *Dict:
		return x.Len() > 0
	}
	if n, ok := v.(json.Number); ok {
		f, err := strconv.ParseFloat(n.String(), 64)
		return err != nil || f != 0
	}
	return true
}

// scope is a chain of dicts, innermost first: the variables a string sees.
type scope struct {
	d  *Dict
	up *scope
}

// lookup is the value of variable name in sc: the nearest dict's string,
// number or boolean attribute name, else the spec's; %% is "%".
func (r *resolver) lookup(sc *scope, name string) (string, bool) {
	for s := sc; s != nil; s = s.up {
		if v, ok := s.d.vals[name]; ok && isPrimitive(v) {
			return pyStr(v), true
		}
	}
	if name == "" {
		return "%", true
	}
	if v, ok := r.top[name]; ok {
		return pyStr(v), true
	}
	return "", false
}

// substitute returns a copy of the expanded value v where each string has
// its %NAME% references replaced by the variables of its scope: the
// attributes of the dict that holds it and of the dicts around that, as
// they were before substitution. A string is substituted again until it no
// longer changes, so a variable may refer to others, which are looked up
// from the string being substituted. Dict keys are not substituted.
func (r *resolver) substitute(v any, sc *scope, path, src string) any {
	switch x := v.(type) {
	case string:
		return r.substStr(x, sc, path, src)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.substitute(e, sc, index(path, i), index(src, i))
		}
		return out
	case *Dict:
		if x == nil {
			return nil
		}
		inner := &scope{d: x, up: sc}
		out := &Dict{keys: append([]string(nil), x.keys...), vals: make(map[string]any, len(x.vals)), src: x.src}
		for _, k := range x.keys {
			out.vals[k] = r.substitute(x.vals[k], inner, field(path, k), srcOf(x, k, src))
		}
		return out
	}
	return v
}

func (r *resolver) substStr(s string, sc *scope, path, src string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var missing string
	tooLong := false
	// once replaces every reference of in, stopping at the first unknown
	// name or when the result grows too long.
	once := func(in string) string {
		var b strings.Builder
		last := 0
		refs(in, func(i, j int, name string) bool {
			b.WriteString(in[last:i])
			last = j
			v, ok := r.lookup(sc, name)
			if !ok {
				missing = name
				return false
			}
			b.WriteString(v)
			if b.Len() > maxSubstLen {
				tooLong = true
				return false
			}
			return true
		})
		if missing != "" || tooLong {
			return in
		}
		b.WriteString(in[last:])
		if b.Len() > maxSubstLen {
			tooLong = true
			return in
		}
		return b.String()
	}
	cur := s
	for round := 0; ; round++ {
		if round == maxSubstRounds {
			r.add(path, src, fmt.Sprintf("substitution does not settle after %d rounds", maxSubstRounds))
			return s
		}
		next := once(cur)
		switch {
		case missing != "":
			r.add(path, src, fmt.Sprintf("unknown variable %%%s%%: no string, number or boolean attribute %q in this object, the objects around it or the spec (write %%%% for a literal %%)", missing, missing))
			return s
		case tooLong:
			r.add(path, src, fmt.Sprintf("substitution makes a string longer than %d bytes", maxSubstLen))
			return s
		case next == cur:
			return cur
		}
		cur = next
	}
}
