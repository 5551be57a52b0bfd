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
