package v1

import (
	"encoding/json"
	"strings"
	"testing"
)

// The expected strings are what Python 3 prints for str(json.loads(in)).
func TestPyStr(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{
		{json.Number("1.5"), "1.5"},
		{json.Number("1.0"), "1.0"},
		{json.Number("0.1"), "0.1"},
		{json.Number("1e-05"), "1e-05"},
		{json.Number("0.0001"), "0.0001"},
		{json.Number("1e16"), "1e+16"},
		{json.Number("1e15"), "1000000000000000.0"},
		{json.Number("123456789012345678.0"), "1.2345678901234568e+17"},
		{json.Number("-0.0"), "-0.0"},
		{json.Number("125000.0"), "125000.0"},
		{json.Number("2.5e-7"), "2.5e-07"},
		{json.Number("1E5"), "100000.0"},
		{json.Number("100.0"), "100.0"},
		{json.Number("1e22"), "1e+22"},
		{json.Number("12345678901234567890"), "12345678901234567890"},
		{json.Number("-0"), "0"},
		{json.Number("1000000"), "1000000"},
		{true, "True"},
		{false, "False"},
		{"%x%", "%x%"},
	} {
		if got := pyStr(tt.in); got != tt.want {
			t.Errorf("pyStr(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDictOrderAndJSON(t *testing.T) {
	var d Dict
	in := `{"z":1,"a":{"y":true,"b":[{"k":"v","c":null}]},"m":"x"}`
	if err := json.Unmarshal([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.Keys(), ","); got != "z,a,m" {
		t.Errorf("keys = %s, want z,a,m", got)
	}
	out, err := json.Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip = %s, want %s", out, in)
	}
	d.Set("a", "again") // keeps its place
	d.Set("new", json.Number("2"))
	d.Delete("z")
	if got := strings.Join(d.Keys(), ","); got != "a,m,new" {
		t.Errorf("keys after Set and Delete = %s, want a,m,new", got)
	}
	if err := json.Unmarshal([]byte(`[1]`), &d); err == nil {
		t.Error("a list decoded into a Dict")
	}
}

// A node format cluster keeps its key order and its Vars through
// DeepCopy, the JSON round trip the controller makes.
func TestNodeFormatDeepCopy(t *testing.T) {
	c := decodeOne(t, head+`spec:
  LIBDIR: /opt/x
  nodes:
  - {hostname: n1, zeta: "%LIBDIR%", alpha: 1, daemons: [{type: sshd}]}
  templates: {t: {b: 1, a: 2}}
`)
	cp := c.DeepCopy()
	for _, x := range []*LDMSDCluster{c, cp} {
		if got := strings.Join(x.Spec.Nodes[0].Keys(), ","); got != "hostname,zeta,alpha,daemons" {
			t.Errorf("node keys = %s", got)
		}
		tt, _ := x.Spec.Templates.Get("t")
		if got := strings.Join(tt.(*Dict).Keys(), ","); got != "b,a" {
			t.Errorf("template keys = %s", got)
		}
		if v, _ := x.Spec.Vars.Get("LIBDIR"); v != "/opt/x" {
			t.Errorf("Vars LIBDIR = %v", v)
		}
	}
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(cp)
	if string(a) != string(b) {
		t.Errorf("DeepCopy changed the encoding:\n%s\n%s", a, b)
	}
	if !strings.Contains(string(a), `"LIBDIR":"/opt/x"`) {
		t.Errorf("Vars not inline: %s", a)
	}
}

// JSON and YAML manifests decode to the same node format spec, in order.
func TestNodeFormatJSONEqualsYAML(t *testing.T) {
	y := decodeOne(t, head+"spec:\n  nodes:\n  - {hostname: n1, daemons: [{type: ldmsd, listen: [{xprt: sock, port: 1}]}]}\n")
	j := decodeOne(t, `{"apiVersion":"lvc/v1","kind":"LDMSDCluster","metadata":{"name":"t"},"spec":{"nodes":[{"hostname":"n1","daemons":[{"type":"ldmsd","listen":[{"xprt":"sock","port":1}]}]}]}}`)
	if a, b := mustJSON(t, y), mustJSON(t, j); a != b {
		t.Errorf("yaml:\n%s\njson:\n%s", a, b)
	}
}
