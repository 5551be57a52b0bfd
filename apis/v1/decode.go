package v1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// Limits that keep a hostile manifest from exhausting memory or stack.
const (
	maxNodes = 200000 // values produced from one document, aliases expanded
	maxDepth = 100    // nesting of lists and dicts
)

// Document is the outcome of decoding, defaulting and validating one
// document of a manifest file.
type Document struct {
	Source Source
	// Cluster is nil when the document could not be decoded at all (a
	// syntax error, or not a dict); otherwise it holds what could be
	// decoded, defaulted, even when Errs is not empty.
	Cluster *LDMSDCluster
	// Errs lists every problem of the document; empty means valid.
	Errs ErrorList
}

// LoadFile reads path and loads every document in it, see Load.
func LoadFile(path string) ([]Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return Load(path, data), nil
}

// Load decodes every document of a YAML or JSON manifest, applies
// SetDefaults and Validate to each, and reports one Document per document
// (empty documents are skipped but counted). file names the manifest in
// errors and anchors relative mount sources; it is not read.
func Load(file string, data []byte) []Document {
	var out []Document
	for _, d := range Decode(file, data) {
		if d.Cluster != nil {
			SetDefaults(d.Cluster)
			d.Errs = append(d.Errs, dropShadowed(validate(d.Cluster), d.Errs)...)
		}
		out = append(out, d)
	}
	return out
}

// Errors returns the errors of all documents.
func Errors(docs []Document) ErrorList {
	var l ErrorList
	for _, d := range docs {
		l = append(l, d.Errs...)
	}
	return l
}

// dropShadowed removes validation errors at or under a path that already
// has a decode error: the decoder dropped that value, so its absence says
// nothing more.
func dropShadowed(val, dec ErrorList) ErrorList {
	var out ErrorList
next:
	for _, v := range val {
		for _, d := range dec {
			if d.Path == "" || v.Path == d.Path || strings.HasPrefix(v.Path, d.Path+".") || strings.HasPrefix(v.Path, d.Path+"[") {
				continue next
			}
		}
		out = append(out, v)
	}
	return out
}

// Decode strictly decodes every document of a YAML or JSON manifest into
// LDMSDCluster objects, without defaults or validation. Unknown fields and
// values of the wrong type are reported with their path and left out; the
// rest of the document is still decoded.
func Decode(file string, data []byte) []Document {
	var out []Document
	generic := func(doc int, ov any, err error) {
		src := Source{File: file, Doc: doc}
		e := errs{src: src}
		if err != nil {
			var pe *pathError
			if errors.As(err, &pe) {
				e.add(pe.path, "%s", pe.msg)
			} else {
				e.add("", "%v", err)
			}
			out = append(out, Document{Source: src, Errs: e.list})
			return
		}
		if ov == nil {
			return // an empty document
		}
		c := decodeCluster(ov, &e)
		if c != nil {
			c.Source = src
		}
		out = append(out, Document{Source: src, Cluster: c, Errs: e.list})
	}
	if isJSON(data) {
		decodeJSONStream(data, generic)
	} else {
		decodeYAMLStream(data, generic)
	}
	return out
}

func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// decodeJSONStream reads concatenated JSON values, dicts as *Dict.
func decodeJSONStream(data []byte, fn func(int, any, error)) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			fn(doc, nil, fmt.Errorf("json: %w", err))
			return
		}
		var v any
		vd := json.NewDecoder(bytes.NewReader(raw))
		vd.UseNumber()
		if err := vd.Decode(&v); err != nil {
			fn(doc, nil, fmt.Errorf("json: %w", err))
			return
		}
		if d := depth(v); d > maxDepth {
			fn(doc, nil, fmt.Errorf("nesting deeper than %d", maxDepth))
			continue
		}
		od := json.NewDecoder(bytes.NewReader(raw))
		od.UseNumber()
		ov, err := readOrdered(od, 0)
		if err != nil {
			fn(doc, nil, fmt.Errorf("json: %w", err))
			return
		}
		fn(doc, ov, nil)
	}
}

func depth(v any) int {
	switch x := v.(type) {
	case []any:
		m := 0
		for _, e := range x {
			m = max(m, depth(e))
		}
		return m + 1
	case map[string]any:
		m := 0
		for _, e := range x {
			m = max(m, depth(e))
		}
		return m + 1
	}
	return 0
}

// decodeYAMLStream reads "---" separated YAML documents; JSON is YAML too.
func decodeYAMLStream(data []byte, fn func(int, any, error)) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			fn(doc, nil, err)
			return // the parser cannot resume after a syntax error
		}
		c := yamlConv{active: map[*yaml.Node]bool{}}
		v, err := c.value(&n, "", 0)
		fn(doc, v, err)
	}
}

// yamlConv turns a YAML node tree into the values encoding/json produces
// with UseNumber, except that dicts are *Dict, in written order: *Dict,
// []any, string, json.Number, bool, nil.
type yamlConv struct {
	nodes  int
	active map[*yaml.Node]bool // aliases being expanded, to stop cycles
}

// pathError is a conversion error at a field path.
type pathError struct{ path, msg string }

func (e *pathError) Error() string { return e.path + ": " + e.msg }

func errAt(path string, n *yaml.Node, format string, args ...any) error {
	return &pathError{path: path, msg: fmt.Sprintf(format, args...) + fmt.Sprintf(" (line %d)", n.Line)}
}

func (c *yamlConv) value(n *yaml.Node, path string, d int) (any, error) {
	c.nodes++
	if c.nodes > maxNodes {
		return nil, fmt.Errorf("document has more than %d values (aliases expanded)", maxNodes)
	}
	if d > maxDepth {
		return nil, errAt(path, n, "nesting deeper than %d", maxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], path, d)
	case yaml.AliasNode:
		if n.Alias == nil || c.active[n.Alias] {
			return nil, errAt(path, n, "alias *%s refers to itself", n.Value)
		}
		c.active[n.Alias] = true
		defer delete(c.active, n.Alias)
		return c.value(n.Alias, path, d)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			v, err := c.value(e, index(path, i), d+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return c.mapping(n, path, d)
	case yaml.ScalarNode:
		v, err := scalar(n)
		if err != nil {
			return nil, errAt(path, n, "%v", err)
		}
		return v, nil
	}
	return nil, errAt(path, n, "unexpected YAML node")
}

// mapping converts a mapping; "<<" merge keys fill in keys not set
// explicitly, as YAML 1.1 tools do, after the explicit ones.
func (c *yamlConv) mapping(n *yaml.Node, path string, d int) (any, error) {
	out := NewDict()
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(path, k, "a dict key must be a scalar")
		}
		if _, dup := out.Get(k.Value); dup {
			return nil, errAt(field(path, k.Value), k, "key appears twice")
		}
		val, err := c.value(v, field(path, k.Value), d+1)
		if err != nil {
			return nil, err
		}
		out.Set(k.Value, val)
	}
	for _, m := range merges {
		v, err := c.value(m, field(path, "<<"), d+1)
		if err != nil {
			return nil, err
		}
		srcs, ok := v.([]any)
		if !ok {
			srcs = []any{v}
		}
		for _, s := range srcs {
			sm, ok := s.(*Dict)
			if !ok {
				return nil, errAt(field(path, "<<"), m, "a merge key needs a dict or a list of dicts")
			}
			for _, k := range sm.keys {
				if _, set := out.Get(k); !set {
					out.Set(k, cloneValue(sm.vals[k]))
				}
			}
		}
	}
	return out, nil
}

// scalar resolves a YAML scalar by its tag. Numbers keep the text as
// written when it is a JSON number, so that env dict values stay as typed.
func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int":
		if isJSONNumber(n.Value) {
			return json.Number(n.Value), nil
		}
		var i int64
		if err := n.Decode(&i); err != nil {
			var u uint64
			if err := n.Decode(&u); err != nil {
				return nil, fmt.Errorf("integer %s out of range", n.Value)
			}
			return json.Number(strconv.FormatUint(u, 10)), nil
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%s is not a finite number", n.Value)
		}
		if isJSONNumber(n.Value) {
			return json.Number(n.Value), nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	// !!str, !!timestamp, !!binary and custom tags: the text as written.
	return n.Value, nil
}

func isJSONNumber(s string) bool {
	return s != "" && json.Valid([]byte(s)) && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}

// decodeCluster checks the generic document (dicts as *Dict) against
// LDMSDCluster's json tags, reporting unknown fields and type errors with
// their path, then decodes what is left. In the ldms-test format the
// spec's attributes outside the schema become Spec.Vars when
// extraAllowed accepts them, and the templates and nodes keep their key
// order.
func decodeCluster(ov any, e *errs) *LDMSDCluster {
	v := plain(ov)
	m, ok := v.(map[string]any)
	if !ok {
		e.add("", "a document must be a dict, got %s", kindOf(v))
		return nil
	}
	var ospec *Dict
	var vars *Dict
	if spec, ok := m["spec"].(map[string]any); ok && isNodeFormat(spec) {
		ospec, _ = ov.(*Dict).vals["spec"].(*Dict)
		vars = NewDict()
		known := jsonFields(reflect.TypeFor[LDMSDClusterSpec]())
		// The references ExpandNodes counts: under templates and
		// nodes, and in the variables themselves.
		refs := map[string]bool{}
		collectRefs(spec["templates"], refs)
		collectRefs(spec["nodes"], refs)
		for k, x := range spec {
			if _, ok := known[k]; !ok {
				collectRefs(x, refs)
			}
		}
		kept := make(map[string]any, len(spec))
		for _, k := range ospec.keys {
			if _, ok := known[k]; ok {
				kept[k] = spec[k]
				continue
			}
			if !extraAllowed(k, spec[k], refs) {
				e.add(field("spec", k), "%s", unknownFieldMsg(k))
				continue
			}
			vars.Set(k, ospec.vals[k])
		}
		top := make(map[string]any, len(m))
		for k, x := range m {
			top[k] = x
		}
		top["spec"] = kept
		v = top
	}
	clean, _ := walk(e, "", v, reflect.TypeFor[LDMSDCluster]())
	data, err := json.Marshal(clean)
	if err != nil {
		e.add("", "internal error: %v", err)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c LDMSDCluster
	if err := dec.Decode(&c); err != nil {
		e.add("", "internal error: %v", err)
		return nil
	}
	if ospec != nil {
		restoreOrder(&c.Spec, ospec)
		if vars.Len() > 0 {
			c.Spec.Vars = vars
		}
	}
	return &c
}

// restoreOrder puts back the written key order of the templates and
// nodes that the decoding through encoding/json sorted.
func restoreOrder(s *LDMSDClusterSpec, ospec *Dict) {
	if t, ok := ospec.vals["templates"].(*Dict); ok && s.Templates != nil {
		s.Templates = t.Clone()
	}
	if l, ok := ospec.vals["nodes"].([]any); ok && len(l) == len(s.Nodes) {
		for i, n := range l {
			if d, ok := n.(*Dict); ok && s.Nodes[i] != nil {
				s.Nodes[i] = d.Clone()
			}
		}
	}
}

var (
	envType         = reflect.TypeFor[Env]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
	// specType has its own JSON methods (for Vars) but is walked field
	// by field.
	specType = reflect.TypeFor[LDMSDClusterSpec]()
)

// walk returns v with every unknown field and wrongly typed value removed
// (a removed list element becomes null, so later indices do not shift),
// and whether v itself is kept.
func walk(e *errs, path string, v any, t reflect.Type) (any, bool) {
	if v == nil {
		return nil, true // null leaves the zero value, as encoding/json does
	}
	switch {
	case t == envType:
		return walkEnv(e, path, v)
	case t == timeType:
		s, ok := v.(string)
		if !ok {
			return typeErr(e, path, "a RFC 3339 time", v)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			e.add(path, "expected a RFC 3339 time, got %q", s)
			return nil, false
		}
		return v, true
	case t != specType && reflect.PointerTo(t).Implements(unmarshalerType):
		data, _ := json.Marshal(v)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(data); err != nil {
			e.add(path, "%v, got %s", err, kindOf(v))
			return nil, false
		}
		return v, true
	}
	switch t.Kind() {
	case reflect.Pointer:
		return walk(e, path, v, t.Elem())
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return typeErr(e, path, "a dict", v)
		}
		fields := jsonFields(t)
		out := map[string]any{}
		for _, k := range sortedKeys(m) {
			ft, known := fields[k]
			if !known {
				e.add(field(path, k), "unknown field")
				continue
			}
			if cv, ok := walk(e, field(path, k), m[k], ft); ok {
				out[k] = cv
			}
		}
		return out, true
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return typeErr(e, path, "a list", v)
		}
		out := make([]any, len(l))
		for i, x := range l {
			out[i], _ = walk(e, index(path, i), x, t.Elem())
		}
		return out, true
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return typeErr(e, path, "a dict", v)
		}
		out := map[string]any{}
		for _, k := range sortedKeys(m) {
			if cv, ok := walk(e, field(path, k), m[k], t.Elem()); ok {
				out[k] = cv
			}
		}
		return out, true
	case reflect.String:
		if _, ok := v.(string); !ok {
			return typeErr(e, path, "a string", v)
		}
		return v, true
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return typeErr(e, path, "a boolean (true or false)", v)
		}
		return v, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return typeErr(e, path, "an integer", v)
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil || reflect.Zero(t).OverflowInt(i) {
			e.add(path, "expected an integer, got %s", n)
			return nil, false
		}
		return v, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return typeErr(e, path, "a non-negative integer", v)
		}
		u, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil || reflect.Zero(t).OverflowUint(u) {
			e.add(path, "expected a non-negative integer, got %s", n)
			return nil, false
		}
		return v, true
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return typeErr(e, path, "a number", v)
		}
		return v, true
	case reflect.Interface:
		return v, true
	}
	e.add(path, "internal error: cannot decode into %s", t)
	return nil, false
}

// walkEnv checks the list form (NAME=VALUE strings) or the dict form
// (scalar values) of an Env.
func walkEnv(e *errs, path string, v any) (any, bool) {
	switch x := v.(type) {
	case []any:
		// Bad entries are dropped; later messages name entries by
		// variable name, not index, so nothing shifts.
		out := make([]any, 0, len(x))
		for i, s := range x {
			str, isStr := s.(string)
			if !isStr {
				e.add(index(path, i), "expected a NAME=VALUE string, got %s", kindOf(s))
				continue
			}
			if _, err := ParseEnvEntry(str); err != nil {
				e.add(index(path, i), "%v", err)
				continue
			}
			out = append(out, str)
		}
		return out, true
	case map[string]any:
		out := map[string]any{}
		for _, k := range sortedKeys(x) {
			if _, err := envValue(x[k]); err != nil {
				e.add(field(path, k), "%v", err)
				continue
			}
			out[k] = x[k]
		}
		return out, true
	}
	return typeErr(e, path, "a list of NAME=VALUE or a dict", v)
}

func typeErr(e *errs, path, want string, v any) (any, bool) {
	e.add(path, "expected %s, got %s", want, kindOf(v))
	return nil, false
}

// kindOf names a decoded value's type in the manifest's terms.
func kindOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", truncate(x, 40))
	case json.Number:
		return "number " + truncate(x.String(), 40)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any:
		return "a list"
	case map[string]any, *Dict:
		return "a dict"
	}
	return fmt.Sprintf("%T", v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps the JSON names of t's fields, embedded structs inlined,
// to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	fieldCache.Store(t, out)
	return out
}
