package v1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Dict is a dict of the ldms-test spec format as written: its keys keep
// the order they were written in, as a Python dict does, because the
// ldmsd config lines of listen, auth, prdcr, prdcr_listen and advertiser
// objects print their attributes in that order. Its values are nil, bool,
// json.Number, string, []any and *Dict.
//
// It encodes to and decodes from a JSON object with its keys in order, so
// that a cluster keeps its key order through DeepCopy. (A status file
// written through sigs.k8s.io/yaml sorts the keys, and may write a whole
// float such as 1.0 as 1.)
type Dict struct {
	keys []string
	vals map[string]any
	// src is where each value was written, for messages; set only on the
	// dicts that template expansion builds.
	src map[string]string
}

// NewDict returns an empty Dict.
func NewDict() *Dict { return &Dict{vals: map[string]any{}} }

// Len is the number of keys.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.keys)
}

// Keys returns the keys in order.
func (d *Dict) Keys() []string {
	if d == nil {
		return nil
	}
	return append([]string(nil), d.keys...)
}

// Get returns the value of key and whether it is set.
func (d *Dict) Get(key string) (any, bool) {
	if d == nil {
		return nil, false
	}
	v, ok := d.vals[key]
	return v, ok
}

// Set sets key to v: a new key goes last, an existing key keeps its
// place (Python's dict update).
func (d *Dict) Set(key string, v any) {
	if d.vals == nil {
		d.vals = map[string]any{}
	}
	if _, ok := d.vals[key]; !ok {
		d.keys = append(d.keys, key)
	}
	d.vals[key] = v
}

// Delete removes key.
func (d *Dict) Delete(key string) {
	if _, ok := d.vals[key]; !ok {
		return
	}
	delete(d.vals, key)
	delete(d.src, key)
	for i, k := range d.keys {
		if k == key {
			d.keys = append(d.keys[:i:i], d.keys[i+1:]...)
			break
		}
	}
}

// Clone returns a deep copy of d.
func (d *Dict) Clone() *Dict {
	if d == nil {
		return nil
	}
	return cloneValue(d).(*Dict)
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case *Dict:
		if x == nil {
			return (*Dict)(nil)
		}
		out := &Dict{keys: append([]string(nil), x.keys...), vals: make(map[string]any, len(x.vals))}
		for k, e := range x.vals {
			out.vals[k] = cloneValue(e)
		}
		if x.src != nil {
			out.src = make(map[string]string, len(x.src))
			for k, s := range x.src {
				out.src[k] = s
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// MarshalJSON encodes d as a JSON object with its keys in order.
func (d *Dict) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case *Dict:
		if x == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			if err := writeJSON(b, x.vals[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case nil, bool, string, json.Number:
		data, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(data)
	default:
		return fmt.Errorf("dict value of type %T", v)
	}
	return nil
}

// errNotDict is the message walk reports for a Dict field given another
// kind of value.
var errNotDict = errors.New("expected a dict")

// UnmarshalJSON decodes a JSON object, keeping its key order; numbers stay
// json.Number. A key given twice keeps its first place and its last value.
func (d *Dict) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readOrdered(dec, 0)
	if err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("unexpected data after the value")
	}
	od, ok := v.(*Dict)
	if !ok || od == nil {
		return errNotDict
	}
	*d = *od
	return nil
}

// readOrdered reads one JSON value from dec, dicts as *Dict.
func readOrdered(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			out := NewDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := readOrdered(dec, depth+1)
				if err != nil {
					return nil, err
				}
				out.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return out, nil
		case '[':
			out := []any{}
			for dec.More() {
				v, err := readOrdered(dec, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return out, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil // nil, bool, json.Number or string
}

// plain turns an ordered value into the form encoding/json gives with
// UseNumber: dicts become map[string]any.
func plain(v any) any {
	switch x := v.(type) {
	case *Dict:
		if x == nil {
			return nil
		}
		out := make(map[string]any, len(x.keys))
		for _, k := range x.keys {
			out[k] = plain(x.vals[k])
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// isPrimitive tells whether v is a string, number or boolean: what the
// Python module takes as a %name% variable.
func isPrimitive(v any) bool {
	switch v.(type) {
	case string, json.Number, bool:
		return true
	}
	return false
}

// pyStr formats a primitive value as Python's str() does: True and False,
// integers in decimal, floats as repr() writes them (1.5, 1e-05,
// 1000000.0).
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return pyNumber(x.String())
	case nil:
		return "None"
	}
	return fmt.Sprint(v)
}

// pyNumber formats a JSON number as Python's str() of the int or float
// that Python's json module reads it as.
func pyNumber(s string) string {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
		// Python ints have no bound: the digits as written, without
		// a leading "+" or zeros.
		neg := strings.HasPrefix(s, "-")
		d := strings.TrimLeft(strings.TrimLeft(s, "+-"), "0")
		if d == "" {
			return "0"
		}
		if neg {
			return "-" + d
		}
		return d
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return pyFloat(f)
}

// pyFloat is Python's repr() of a float: the shortest digits that read
// back the same, in positional notation when the decimal exponent is from
// -4 to 15 (with ".0" on whole numbers), else as d.ddde+XX.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	sign := ""
	if strings.HasPrefix(e, "-") {
		sign, e = "-", e[1:]
	}
	mant, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // digits[0] is at 10^exp
	if decpt > 16 || decpt < -3 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	}
	return sign + digits[:decpt] + "." + digits[decpt:]
}
