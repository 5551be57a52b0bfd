package v1

import (
	"fmt"
	"strconv"
	"strings"
)

// Expand resolves the daemons of a defaulted cluster, in spec order:
// each daemon is merged with its template (see Merge), its env is
// spec env < template env < daemon env, and %key% references are
// replaced: in env values by the merged daemon's scalar fields (%host%,
// %listen_port%, %type%, ...), in a sampler's config lines by the sampler
// entry's (%plugin%). "%%" is a literal "%"; "${VAR}" is left for ldmsd.
// The returned daemons have LogLevel in upper case.
func Expand(c *LDMSDCluster) ([]DaemonSpec, error) {
	e := errs{src: c.Source}
	out := expand(c, &e, true)
	return out, e.list.Err()
}

// expand does Expand's work; Validate reports unknown keys where they are
// written, so it asks expand not to report them per daemon.
func expand(c *LDMSDCluster, e *errs, reportUnknown bool) []DaemonSpec {
	s := &c.Spec
	tmpl := map[string]int{}
	for j := len(s.Define) - 1; j >= 0; j-- {
		tmpl[s.Define[j].Name] = j // the first of duplicates wins
	}
	out := make([]DaemonSpec, 0, len(s.Daemons))
	for i, d := range s.Daemons {
		dpath := index("spec.daemons", i)
		t, tpath := DaemonSpec{}, ""
		if d.Asset != "" {
			j, ok := tmpl[d.Asset]
			if !ok {
				e.add(field(dpath, "asset"), "no template %q in spec.define", d.Asset)
			} else {
				t, tpath = s.Define[j], index("spec.define", j)
			}
		}
		m := Merge(t, d)
		m.LogLevel = strings.ToUpper(m.LogLevel)

		// The env, remembering where each value was written for messages.
		var env Env
		from := map[string]string{}
		pos := map[string]int{}
		for _, layer := range []struct {
			env  Env
			path string
		}{{s.Env, "spec.env"}, {t.Env, field(tpath, "env")}, {d.Env, field(dpath, "env")}} {
			for _, v := range layer.env {
				from[v.Name] = field(layer.path, v.Name)
				if p, ok := pos[v.Name]; ok {
					env[p].Value = v.Value
					continue
				}
				pos[v.Name] = len(env)
				env = append(env, v)
			}
		}
		keys := daemonKeys(m)
		for k := range env {
			v, err := substitute(env[k].Value, keyLookup(keys, "daemon", reportUnknown))
			if err != nil {
				p := field(field(dpath, "env"), env[k].Name)
				if src := from[env[k].Name]; !strings.HasPrefix(src, dpath+".") {
					e.add(p, "%v (value from %s)", err, src)
				} else {
					e.add(p, "%v", err)
				}
			}
			env[k].Value = v
		}
		m.Env = env

		for k := range m.Samplers {
			sm := &m.Samplers[k]
			spath := samplerPath(dpath, tpath, len(t.Samplers), k)
			keys := samplerKeys(*sm)
			for l := range sm.Config {
				v, err := substitute(sm.Config[l], keyLookup(keys, "sampler", reportUnknown))
				if err != nil {
					e.add(index(field(spath, "config"), l), "%v", err)
				}
				sm.Config[l] = v
			}
		}
		out = append(out, m)
	}
	return out
}

// samplerPath names where merged sampler k was written: the template's
// samplers come first.
func samplerPath(dpath, tpath string, nt, k int) string {
	if k < nt {
		return index(field(tpath, "samplers"), k)
	}
	return index(field(dpath, "samplers"), k-nt)
}

// Merge applies daemon d over template t: d's scalars win when set, lists
// are t's followed by d's, env is t's updated by d's. The template's name
// is not copied. The result shares nothing with t or d.
func Merge(t, d DaemonSpec) DaemonSpec {
	pick := func(own, tmpl string) string {
		if own != "" {
			return own
		}
		return tmpl
	}
	m := DaemonSpec{
		Name:       d.Name,
		Host:       d.Host,
		Asset:      d.Asset,
		Type:       pick(d.Type, t.Type),
		ListenPort: d.ListenPort,
		ListenXprt: pick(d.ListenXprt, t.ListenXprt),
		ListenAuth: pick(d.ListenAuth, t.ListenAuth),
		Env:        t.Env.Merge(d.Env),
		LogFile:    pick(d.LogFile, t.LogFile),
		LogLevel:   pick(d.LogLevel, t.LogLevel),
		ConfigFile: pick(d.ConfigFile, t.ConfigFile),
		Restart:    pick(d.Restart, t.Restart),
		Placement:  d.Placement,
	}
	if m.Placement == nil {
		m.Placement = t.Placement
	}
	if m.ListenPort == 0 {
		m.ListenPort = t.ListenPort
	}
	for _, src := range [][]Sampler{t.Samplers, d.Samplers} {
		for _, sm := range src {
			sm.Config = append([]string(nil), sm.Config...)
			m.Samplers = append(m.Samplers, sm)
		}
	}
	m.Config = append(append([]string(nil), t.Config...), d.Config...)
	if len(m.Config) == 0 {
		m.Config = nil
	}
	return m
}

// daemonKeys are the %key% names of a daemon: its scalar fields.
func daemonKeys(d DaemonSpec) map[string]string {
	port := ""
	if d.ListenPort != 0 {
		port = strconv.Itoa(d.ListenPort)
	}
	return map[string]string{
		"name":        d.Name,
		"host":        d.Host,
		"asset":       d.Asset,
		"type":        d.Type,
		"listen_port": port,
		"listen_xprt": d.ListenXprt,
		"listen_auth": d.ListenAuth,
		"log_file":    d.LogFile,
		"log_level":   d.LogLevel,
		"config_file": d.ConfigFile,
		"restart":     d.Restart,
	}
}

// samplerKeys are the %key% names of a sampler entry: its scalar fields.
func samplerKeys(s Sampler) map[string]string {
	return map[string]string{"plugin": s.Plugin, "start": strconv.FormatBool(s.Start)}
}

// errUnknownKey marks a reference to a key the entry does not have.
type errUnknownKey struct{ key, what string }

func (e errUnknownKey) Error() string {
	return fmt.Sprintf("unknown key %%%s%% (a %s has no field %q; write %%%% for a literal %%)", e.key, e.what, e.key)
}

// keyLookup resolves keys from values; a known key without a value is an
// error, an unknown key is one only when reportUnknown (it is then left
// as written).
func keyLookup(values map[string]string, what string, reportUnknown bool) func(string) (string, error) {
	return func(key string) (string, error) {
		v, ok := values[key]
		if !ok {
			if reportUnknown {
				return "%" + key + "%", errUnknownKey{key, what}
			}
			return "%" + key + "%", nil
		}
		if v == "" {
			return "", fmt.Errorf("%%%s%% has no value: the %s sets no %s", key, what, key)
		}
		return v, nil
	}
}

// substitute replaces every %key% of s (key: a lower-case letter or "_",
// then lower-case letters, digits or "_") by value(key), and "%%" by "%".
// Any other "%" is kept, so "50%" or "%Y-%m" need no escaping. The first
// error is returned with the rest still substituted.
func substitute(s string, value func(key string) (string, error)) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	var first error
	for i := 0; i < len(s); {
		if s[i] != '%' {
			b.WriteByte(s[i])
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			b.WriteByte('%')
			i += 2
			continue
		}
		j := i + 1
		for j < len(s) && isKeyByte(s[j], j == i+1) {
			j++
		}
		if j == i+1 || j >= len(s) || s[j] != '%' {
			b.WriteByte('%')
			i++
			continue
		}
		v, err := value(s[i+1 : j])
		if err != nil && first == nil {
			first = err
		}
		b.WriteString(v)
		i = j + 1
	}
	return b.String(), first
}

func isKeyByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9')
}

// references returns the keys s refers to, in order.
func references(s string) []string {
	var keys []string
	_, _ = substitute(s, func(k string) (string, error) {
		keys = append(keys, k)
		return "", nil
	})
	return keys
}
