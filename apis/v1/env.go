package v1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string
	Value string
}

// String returns NAME=VALUE.
func (e EnvVar) String() string { return e.Name + "=" + e.Value }

// Env is an ordered environment. In a manifest it is either a list of
// "NAME=VALUE" strings (split at the first "=") or a dict {NAME: VALUE};
// a dict is taken in sorted key order, and its number and boolean values
// are used as written. It is encoded back as the list form, which keeps
// the order.
type Env []EnvVar

// ParseEnvEntry splits a list-form entry at its first "=".
func ParseEnvEntry(s string) (EnvVar, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return EnvVar{}, fmt.Errorf("%q is not NAME=VALUE", s)
	}
	return EnvVar{Name: name, Value: value}, nil
}

// Get returns the value of name and whether it is set.
func (e Env) Get(name string) (string, bool) {
	for i := len(e) - 1; i >= 0; i-- {
		if e[i].Name == name {
			return e[i].Value, true
		}
	}
	return "", false
}

// Merge returns e overridden by each of over in turn: a name already present
// keeps its position and takes the new value, a new name is appended. A name
// repeated within one Env keeps its last value.
func (e Env) Merge(over ...Env) Env {
	var out Env
	pos := map[string]int{}
	add := func(src Env) {
		for _, v := range src {
			if i, ok := pos[v.Name]; ok {
				out[i].Value = v.Value
				continue
			}
			pos[v.Name] = len(out)
			out = append(out, v)
		}
	}
	add(e)
	for _, o := range over {
		add(o)
	}
	return out
}

// Strings returns the NAME=VALUE form, as Docker wants it.
func (e Env) Strings() []string {
	out := make([]string, len(e))
	for i, v := range e {
		out[i] = v.String()
	}
	return out
}

// MarshalJSON encodes the list form.
func (e Env) MarshalJSON() ([]byte, error) {
	if e == nil {
		return []byte("null"), nil
	}
	return json.Marshal(e.Strings())
}

// UnmarshalJSON accepts the list form or the dict form.
func (e *Env) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		*e = nil
		return nil
	case len(data) > 0 && data[0] == '[':
		var list []string
		if err := json.Unmarshal(data, &list); err != nil {
			return fmt.Errorf("env list: %w", err)
		}
		out := make(Env, 0, len(list))
		for _, s := range list {
			v, err := ParseEnvEntry(s)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		*e = out
		return nil
	case len(data) > 0 && data[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var dict map[string]any
		if err := dec.Decode(&dict); err != nil {
			return fmt.Errorf("env dict: %w", err)
		}
		out, err := envFromDict(dict)
		if err != nil {
			return err
		}
		*e = out
		return nil
	}
	return fmt.Errorf("env must be a list of NAME=VALUE or a dict")
}

// envFromDict takes the dict form in sorted key order.
func envFromDict(dict map[string]any) (Env, error) {
	names := make([]string, 0, len(dict))
	for k := range dict {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make(Env, 0, len(names))
	for _, k := range names {
		s, err := envValue(dict[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, EnvVar{Name: k, Value: s})
	}
	return out, nil
}

// envValue stringifies a scalar dict value; numbers keep their written form.
func envValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	}
	return "", fmt.Errorf("expected string, number or boolean, got %s", kindOf(v))
}
