package v1

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// decodeOne decodes a single-document manifest, failing on any error.
func decodeOne(t *testing.T, src string) *LDMSDCluster {
	t.Helper()
	docs := Decode("m.yaml", []byte(src))
	if len(docs) != 1 {
		t.Fatalf("Decode = %d documents, want 1", len(docs))
	}
	if len(docs[0].Errs) > 0 {
		t.Fatalf("Decode errors: %v", docs[0].Errs)
	}
	return docs[0].Cluster
}

const head = "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: t}\n"

func TestEnvForms(t *testing.T) {
	tests := []struct {
		name string
		env  string
		want Env
	}{
		{"list", `["A=1", "B=x=y", "C="]`, Env{{"A", "1"}, {"B", "x=y"}, {"C", ""}}},
		{"list keeps order", `["Z=1", "A=2"]`, Env{{"Z", "1"}, {"A", "2"}}},
		{"dict sorted", `{Z: "1", A: "2"}`, Env{{"A", "2"}, {"Z", "1"}}},
		{"dict scalars as written", `{I: 10, F: 2.50, B: true, N: -0, S: "%host%"}`, Env{{"B", "true"}, {"F", "2.50"}, {"I", "10"}, {"N", "-0"}, {"S", "%host%"}}},
		{"dict yaml-only number forms", `{H: 0x1F, O: 0o17}`, Env{{"H", "31"}, {"O", "15"}}},
		{"dict unquoted yes stays a string", `{Y: yes, N: no}`, Env{{"N", "no"}, {"Y", "yes"}}},
		{"empty list", `[]`, Env{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := decodeOne(t, head+"spec:\n  env: "+tt.env+"\n")
			if got := c.Spec.Env; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("env %s = %v, want %v", tt.env, got, tt.want)
			}
		})
	}
}

func TestEnvJSONRoundTrip(t *testing.T) {
	in := Env{{"B", "1"}, {"A", "x=y"}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `["B=1","A=x=y"]`; got != want {
		t.Errorf("json.Marshal(%v) = %s, want %s", in, got, want)
	}
	var out Env
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("json.Unmarshal(%s) = %v, want %v", data, out, in)
	}
	if err := json.Unmarshal([]byte(`{"B": 1, "A": "x"}`), &out); err != nil {
		t.Fatal(err)
	}
	if want := (Env{{"A", "x"}, {"B", "1"}}); !reflect.DeepEqual(out, want) {
		t.Errorf("json.Unmarshal(dict) = %v, want %v", out, want)
	}
	if err := json.Unmarshal([]byte(`["NOEQUALS"]`), &out); err == nil {
		t.Errorf("json.Unmarshal([NOEQUALS]) = nil error, want one")
	}
}

func TestOversubscribe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"false", "NO"},
		{"true", "YES"},
		{`"NO"`, "NO"},
		{"NO", "NO"}, // YAML 1.2: an unquoted NO is a string
		{"FORCE:4", "FORCE:4"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c := decodeOne(t, head+"spec:\n  oversubscribe: "+tt.in+"\n")
			if got := string(c.Spec.Oversubscribe); got != tt.want {
				t.Errorf("oversubscribe: %s = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeDocuments(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		names []string
		docs  []int
	}{
		{"yaml stream", head + "---\n" + strings.Replace(head, "name: t", "name: u", 1), []string{"t", "u"}, []int{1, 2}},
		{"empty documents counted", "---\n# nothing\n---\n" + head, []string{"t"}, []int{2}},
		{"json", `{"apiVersion":"lvc/v1","kind":"LDMSDCluster","metadata":{"name":"j"}}`, []string{"j"}, []int{1}},
		{"json stream", `{"metadata":{"name":"a"}} {"metadata":{"name":"b"}}`, []string{"a", "b"}, []int{1, 2}},
		{"json with tabs", "{\n\t\"metadata\": {\"name\": \"tab\"}\n}", []string{"tab"}, []int{1}},
		{"empty file", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			var docs []int
			for _, d := range Decode("f", []byte(tt.src)) {
				if len(d.Errs) > 0 {
					t.Fatalf("Decode errors: %v", d.Errs)
				}
				names = append(names, d.Cluster.Metadata.Name)
				docs = append(docs, d.Source.Doc)
				if d.Cluster.Source != d.Source {
					t.Errorf("cluster source = %v, want %v", d.Cluster.Source, d.Source)
				}
			}
			if !reflect.DeepEqual(names, tt.names) || !reflect.DeepEqual(docs, tt.docs) {
				t.Errorf("Decode names, docs = %v %v, want %v %v", names, docs, tt.names, tt.docs)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown top-level", head + "specs: {}\n", []string{"f doc 1: specs: unknown field"}},
		{"unknown metadata", head + "spec: {}\n---\nmetadata:\n  name: t\n  namespace: x\n", []string{"f doc 2: metadata.namespace: unknown field"}},
		{"case matters", head + "spec: {Image: x}\n", []string{"f doc 1: spec.Image: unknown field"}},
		{"label value type", "metadata:\n  name: t\n  labels: {a.b/c: 1}\n", []string{`f doc 1: metadata.labels["a.b/c"]: expected a string, got number 1`}},
		{"infinite number", head + "spec: {cpu_per_node: .inf}\n", []string{"f doc 1: spec.cpu_per_node: .inf is not a finite number (line 4)"}},
		{"alias cycle", head + "spec: &a {define: [*a]}\n", []string{"f doc 1: spec.define[0].define[0]: alias *a refers to itself (line 4)"}},
		{"json syntax", `{"metadata": }`, []string{"f doc 1: json: invalid character '}' looking for beginning of value"}},
		{"scalar document", "hello\n", []string{"f doc 1: a document must be a dict, got string \"hello\""}},
		{"status time", head + "status: {conditions: [{type: Ready, status: 'True', lastTransitionTime: yesterday}]}\n", []string{`f doc 1: status.conditions[0].lastTransitionTime: expected a RFC 3339 time, got "yesterday"`}},
		{"oversubscribe number", head + "spec: {oversubscribe: 2}\n", []string{"f doc 1: spec.oversubscribe: expected string or boolean, got number 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range Decode("f", []byte(tt.src)) {
				for _, e := range d.Errs {
					got = append(got, e.Error())
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode errors = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAliasBomb(t *testing.T) {
	src := head + `spec:
  define:
  - &a {name: x, config: [a, a, a, a, a, a, a, a, a, a]}
  - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
  - &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
  - &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
  - &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
  - &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
  - &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
`
	docs := Decode("f", []byte(src))
	if len(docs) != 1 || len(docs[0].Errs) != 1 || !strings.Contains(docs[0].Errs[0].Msg, "more than") {
		t.Errorf("Decode(alias bomb) = %v, want one size error", Errors(docs))
	}
}

func mustRead(t *testing.T, f string) []byte {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
