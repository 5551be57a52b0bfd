package tada

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen opens a UDP listener on 127.0.0.1:0 and returns it with its port.
func listen(t *testing.T) (net.PacketConn, int) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc, pc.LocalAddr().(*net.UDPAddr).Port
}

// receive reads n datagrams and returns them raw and decoded with
// UseNumber, so that 1 and 1.0 stay distinguishable.
func receive(t *testing.T, pc net.PacketConn, n int) ([]string, []map[string]any) {
	t.Helper()
	var raws []string
	var msgs []map[string]any
	buf := make([]byte, 64<<10)
	for range n {
		if err := pc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		k, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("read datagram %d of %d: %v (got %q)", len(raws)+1, n, err, raws)
		}
		raws = append(raws, string(buf[:k]))
		dec := json.NewDecoder(bytes.NewReader(buf[:k]))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decode datagram %q: %v", buf[:k], err)
		}
		msgs = append(msgs, m)
	}
	return raws, msgs
}

// expectNothing fails if another datagram arrives shortly.
func expectNothing(t *testing.T, pc net.PacketConn) {
	t.Helper()
	_ = pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	buf := make([]byte, 64<<10)
	if k, _, err := pc.ReadFrom(buf); err == nil {
		t.Errorf("extra datagram %q", buf[:k])
	}
}

// sha computes the test-id independently of the package.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// clock returns the given times in turn, then the last one forever.
func clock(times ...time.Time) func() time.Time {
	return func() time.Time {
		t := times[0]
		if len(times) > 1 {
			times = times[1:]
		}
		return t
	}
}

func TestReport(t *testing.T) {
	start := time.Unix(1700000000, 250_000_999) // truncated to .250000
	finish := time.Unix(1700000042, 0)
	const id0 = "LDMSD:LDMSD:agg + slurm:alice:abc123:1700000000"
	id := sha(id0)
	startMsg := map[string]any{
		"msg-type":   "test-start",
		"test-suite": "LDMSD",
		"test-type":  "LDMSD",
		"test-name":  "agg + slurm",
		"test-user":  "alice",
		"commit-id":  "abc123",
		"timestamp":  json.Number("1700000000.25"),
		"test-id":    id,
		"test-desc":  "two-level aggregation",
	}
	finishMsg := map[string]any{
		"msg-type":  "test-finish",
		"test-id":   id,
		"timestamp": json.Number("1700000042.0"),
	}
	status := func(no int, desc, cond, st string) map[string]any {
		return map[string]any{
			"msg-type":    "assert-status",
			"assert-no":   json.Number(strconv.Itoa(no)),
			"assert-desc": desc,
			"assert-cond": cond,
			"test-status": st,
			"test-id":     id,
		}
	}
	type check struct {
		no   int
		cond bool
		desc string
	}
	declared := [][2]string{{"1", "ldms_ls agg-2"}, {"2", "job_id on sampler-1"}, {"3", "job_id on sampler-2"}}
	tests := []struct {
		name      string
		declare   [][2]string
		asserts   []check
		want      []map[string]any
		wantLines string
		wantExit  int
		wantErr   error
	}{
		{
			name:    "all passed",
			declare: declared,
			asserts: []check{{1, true, "ldms_ls results"}, {2, true, "job_id 1"}, {3, true, "job_id 2"}},
			want: []map[string]any{startMsg,
				status(1, "ldms_ls agg-2", "ldms_ls results", "passed"),
				status(2, "job_id on sampler-1", "job_id 1", "passed"),
				status(3, "job_id on sampler-2", "job_id 2", "passed"),
				finishMsg},
			wantLines: "assertion 1, ldms_ls agg-2: ldms_ls results, passed\n" +
				"assertion 2, job_id on sampler-1: job_id 1, passed\n" +
				"assertion 3, job_id on sampler-2: job_id 2, passed\n",
			wantExit: 0,
		},
		{
			name:    "failed and skipped",
			declare: declared,
			asserts: []check{{1, true, "ldms_ls results"}, {3, false, "job_id results"}},
			want: []map[string]any{startMsg,
				status(1, "ldms_ls agg-2", "ldms_ls results", "passed"),
				status(3, "job_id on sampler-2", "job_id results", "failed"),
				status(2, "job_id on sampler-1", "none", "skipped"),
				finishMsg},
			wantLines: "assertion 1, ldms_ls agg-2: ldms_ls results, passed\n" +
				"assertion 3, job_id on sampler-2: job_id results, failed\n" +
				"assertion 2, job_id on sampler-1: skipped\n",
			wantExit: 1,
		},
		{
			name:    "skipped in declaration order",
			declare: [][2]string{{"3", "c"}, {"1", "a"}, {"2", "b"}},
			asserts: []check{{1, true, "x"}},
			want: []map[string]any{startMsg,
				status(1, "a", "x", "passed"),
				status(3, "c", "none", "skipped"),
				status(2, "b", "none", "skipped"),
				finishMsg},
			wantLines: "assertion 1, a: x, passed\nassertion 3, c: skipped\nassertion 2, b: skipped\n",
			wantExit:  1,
		},
		{
			name:     "no assertion declared",
			want:     []map[string]any{startMsg, finishMsg},
			wantExit: 0,
		},
		{
			name:    "asserted twice, the last result counts",
			declare: [][2]string{{"1", "a"}},
			asserts: []check{{1, false, "first"}, {1, true, "second"}},
			want: []map[string]any{startMsg,
				status(1, "a", "first", "failed"),
				status(1, "a", "second", "passed"),
				finishMsg},
			wantLines: "assertion 1, a: first, failed\nassertion 1, a: second, passed\n",
			wantExit:  0,
		},
		{
			name:    "undeclared assertion is not sent and fails the test",
			declare: [][2]string{{"1", "a"}},
			asserts: []check{{1, true, "ok"}, {9, true, "stray"}},
			want: []map[string]any{startMsg,
				status(1, "a", "ok", "passed"),
				finishMsg},
			wantLines: "assertion 1, a: ok, passed\n",
			wantExit:  1,
			wantErr:   ErrUndeclared,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc, port := listen(t)
			var lines strings.Builder
			test, err := New(Config{
				Suite: "LDMSD", Type: "LDMSD", Name: "agg + slurm", User: "alice",
				CommitID: "abc123", Desc: "two-level aggregation",
				Host: "127.0.0.1", Port: port, Out: &lines,
			})
			if err != nil {
				t.Fatal(err)
			}
			test.now = clock(start, finish)
			for _, d := range tt.declare {
				no, _ := strconv.Atoi(d[0])
				test.AddAssertion(no, d[1])
			}
			if err := test.Start(t.Context()); err != nil {
				t.Fatalf("Start() = %v, want nil", err)
			}
			if got := test.ID(); got != id {
				t.Errorf("ID() = %s, want %s", got, id)
			}
			for _, c := range tt.asserts {
				if got := test.Assert(c.no, c.cond, c.desc); got != c.cond {
					t.Errorf("Assert(%d, %v) = %v, want %v", c.no, c.cond, got, c.cond)
				}
			}
			if err := test.Finish(); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Finish() = %v, want %v", err, tt.wantErr)
			}
			_, got := receive(t, pc, len(tt.want))
			for i := range tt.want {
				if !reflect.DeepEqual(got[i], tt.want[i]) {
					t.Errorf("message %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
			expectNothing(t, pc)
			if got := lines.String(); got != tt.wantLines {
				t.Errorf("human lines = %q, want %q", got, tt.wantLines)
			}
			if got := test.ExitCode(); got != tt.wantExit {
				t.Errorf("ExitCode() = %d, want %d", got, tt.wantExit)
			}
			if got, want := test.Passed(), tt.wantExit == 0; got != want {
				t.Errorf("Passed() = %v, want %v", got, want)
			}
		})
	}
}

// The datagrams are byte for byte what Python's json.dumps produced.
func TestWireBytes(t *testing.T) {
	pc, port := listen(t)
	test, err := New(Config{Suite: "S", Type: "T", Name: "café <b>", User: "u", Host: "127.0.0.1", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	test.now = clock(time.Unix(1700000000, 0), time.Unix(1700000001, 500_000_000))
	test.AddAssertion(1, "a&b")
	test.AddAssertion(2, "😀")
	if err := test.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	test.Assert(1, false, "x \"y\"\n")
	if err := test.Finish(); err != nil {
		t.Fatal(err)
	}
	id := sha("S:T:café <b>:u:-:1700000000")
	want := []string{
		`{"msg-type": "test-start", "test-suite": "S", "test-type": "T", "test-name": "caf\u00e9 <b>", "test-user": "u", "commit-id": "-", "timestamp": 1700000000.0, "test-id": "` + id + `", "test-desc": "caf\u00e9 <b>"}`,
		`{"msg-type": "assert-status", "assert-no": 1, "assert-desc": "a&b", "assert-cond": "x \"y\"\n", "test-status": "failed", "test-id": "` + id + `"}`,
		`{"msg-type": "assert-status", "assert-no": 2, "assert-desc": "\ud83d\ude00", "assert-cond": "none", "test-status": "skipped", "test-id": "` + id + `"}`,
		`{"msg-type": "test-finish", "test-id": "` + id + `", "timestamp": 1700000001.5}`,
	}
	got, _ := receive(t, pc, len(want))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("datagram %d = %s, want %s", i, got[i], want[i])
		}
	}
}

// With the real clock, test-id is the SHA-256 of the fields and the
// integer part of the timestamp sent in test-start.
func TestTestIDRule(t *testing.T) {
	pc, port := listen(t)
	test, err := New(Config{Suite: "s", Type: "t", Name: "n", Host: "127.0.0.1", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := test.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	_, msgs := receive(t, pc, 1)
	ts, ok := msgs[0]["timestamp"].(json.Number)
	if !ok || !strings.Contains(ts.String(), ".") {
		t.Fatalf("timestamp = %#v, want a float literal", msgs[0]["timestamp"])
	}
	f, err := ts.Float64()
	if err != nil {
		t.Fatal(err)
	}
	if lo, hi := float64(before.UnixMicro())/1e6, float64(after.UnixMicro())/1e6; f < lo || f > hi {
		t.Errorf("timestamp = %f, want within [%f, %f]", f, lo, hi)
	}
	user := test.State().User
	want := sha("s:t:n:" + user + ":-:" + strconv.FormatInt(int64(math.Trunc(f)), 10))
	if got := msgs[0]["test-id"]; got != want {
		t.Errorf("test-id = %v, want %s", got, want)
	}
	if got := msgs[0]["test-user"]; got != user || user == "" {
		t.Errorf("test-user = %v, want the current user %q", got, user)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		want    Config
		wantErr string
	}{
		{
			name: "defaults",
			cfg:  Config{Suite: "s", Type: "t", Name: "n", User: "u"},
			want: Config{Suite: "s", Type: "t", Name: "n", User: "u", CommitID: "-", Desc: "n", Host: "localhost", Port: 9862},
		},
		{
			name: "explicit",
			cfg:  Config{Suite: "s", Type: "t", Name: "n", User: "u", CommitID: "c", Desc: "d", Host: "h", Port: 1},
			want: Config{Suite: "s", Type: "t", Name: "n", User: "u", CommitID: "c", Desc: "d", Host: "h", Port: 1},
		},
		{name: "no suite", cfg: Config{Type: "t", Name: "n"}, wantErr: "suite is required"},
		{name: "no type", cfg: Config{Suite: "s", Name: "n"}, wantErr: "type is required"},
		{name: "no name", cfg: Config{Suite: "s", Type: "t"}, wantErr: "name is required"},
		{name: "negative port", cfg: Config{Suite: "s", Type: "t", Name: "n", Port: -1}, wantErr: "out of range"},
		{name: "large port", cfg: Config{Suite: "s", Type: "t", Name: "n", Port: 65536}, wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			test, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New(%+v) = %v, want error containing %q", tt.cfg, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v) = %v, want nil", tt.cfg, err)
			}
			if got := test.State().Config; got != tt.want {
				t.Errorf("New(%+v) config = %+v, want %+v", tt.cfg, got, tt.want)
			}
		})
	}
}

func TestStartUnresolvableHost(t *testing.T) {
	test, err := New(Config{Suite: "s", Type: "t", Name: "n", User: "u", Host: "no-such-host.invalid"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := test.Start(ctx); err == nil || !strings.Contains(err.Error(), "no-such-host.invalid") {
		t.Errorf("Start() = %v, want a resolve error naming the host", err)
	}
}

// Nothing listening is not an error: UDP is fire-and-forget.
func TestNoListener(t *testing.T) {
	pc, port := listen(t)
	pc.Close() // the port is now closed: sends draw ICMP port unreachable
	test, err := New(Config{Suite: "s", Type: "t", Name: "n", User: "u", Host: "127.0.0.1", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	test.AddAssertion(1, "a")
	test.AddAssertion(2, "b")
	if err := test.Start(t.Context()); err != nil {
		t.Fatalf("Start() = %v, want nil", err)
	}
	if got := test.Assert(1, true, "x"); !got {
		t.Errorf("Assert(1, true) = %v, want true", got)
	}
	test.Assert(2, true, "y")
	if err := test.Finish(); err != nil {
		t.Errorf("Finish() = %v, want nil", err)
	}
	if got := test.ExitCode(); got != 0 {
		t.Errorf("ExitCode() = %d, want 0", got)
	}
}

func TestMisuse(t *testing.T) {
	test, err := New(Config{Suite: "s", Type: "t", Name: "n", User: "u", Host: "127.0.0.1", Port: 9})
	if err != nil {
		t.Fatal(err)
	}
	test.AddAssertion(1, "a")
	if err := test.Finish(); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Finish() before Start = %v, want %v", err, ErrNotStarted)
	}
	test.Assert(1, true, "early")
	if got := test.Passed(); got {
		t.Errorf("Passed() after Assert before Start = %v, want false", got)
	}
	if err := test.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := test.Start(t.Context()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start() = %v, want %v", err, ErrStarted)
	}
	test.Assert(1, true, "ok")
	if err := test.Finish(); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Finish() = %v, want the recorded %v", err, ErrNotStarted)
	}
	if err := test.Finish(); !errors.Is(err, ErrFinished) {
		t.Errorf("second Finish() = %v, want %v", err, ErrFinished)
	}
}

// A test saved with State and restored elsewhere goes on with the same
// test-id and results.
func TestRestore(t *testing.T) {
	pc, port := listen(t)
	test, err := New(Config{Suite: "s", Type: "t", Name: "n", User: "u", Host: "127.0.0.1", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	test.now = clock(time.Unix(1700000000, 0))
	test.AddAssertion(1, "a")
	test.AddAssertion(2, "b")
	test.AddAssertion(3, "c")
	if err := test.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	test.Assert(1, true, "x")
	b, err := json.Marshal(test.State())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Config, test.State().Config) || !st.Start.Equal(test.State().Start) {
		t.Fatalf("State round trip = %+v, want %+v", st, test.State())
	}
	var lines strings.Builder
	st.Out = &lines
	again, err := Restore(t.Context(), st)
	if err != nil {
		t.Fatalf("Restore() = %v, want nil", err)
	}
	if got, want := again.ID(), test.ID(); got != want {
		t.Errorf("ID() after Restore = %s, want %s", got, want)
	}
	again.Assert(3, true, "z")
	if err := again.Finish(); err != nil {
		t.Fatal(err)
	}
	_, msgs := receive(t, pc, 5)
	var got []string
	for _, m := range msgs {
		s := m["msg-type"].(string)
		if n, ok := m["assert-no"]; ok {
			s += " " + n.(json.Number).String() + " " + m["test-status"].(string)
		}
		if m["test-id"] != test.ID() {
			t.Errorf("message %v test-id = %v, want %s", m, m["test-id"], test.ID())
		}
		got = append(got, s)
	}
	want := []string{"test-start", "assert-status 1 passed", "assert-status 3 passed", "assert-status 2 skipped", "test-finish"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("messages = %q, want %q", got, want)
	}
	if got, want := lines.String(), "assertion 3, c: z, passed\nassertion 2, b: skipped\n"; got != want {
		t.Errorf("human lines = %q, want %q", got, want)
	}
	if got := again.ExitCode(); got != 1 {
		t.Errorf("ExitCode() = %d, want 1", got)
	}

	bad := []struct {
		name string
		edit func(*State)
		want string
	}{
		{"not started", func(s *State) { s.TestID = "" }, "not started"},
		{"tampered", func(s *State) { s.User = "mallory" }, "does not match"},
		{"duplicate", func(s *State) { s.Assertions = append(s.Assertions, s.Assertions[0]) }, "declared twice"},
		{"bad status", func(s *State) { s.Assertions[0].Status = "maybe" }, "invalid status"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			s := test.State()
			tt.edit(&s)
			if _, err := Restore(t.Context(), s); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Restore(%s) = %v, want error containing %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestPyFloat(t *testing.T) {
	// want is Python's repr of the same float.
	tests := []struct {
		in   float64
		want string
	}{
		{1700000000, "1700000000.0"},
		{1700000000.123456, "1700000000.123456"},
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{123.5, "123.5"},
		{1e-4, "0.0001"},
		{1.5e-05, "1.5e-05"},
		{9999999999999998, "9999999999999998.0"},
		{1e16, "1e+16"},
		{1e22, "1e+22"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			b, err := pyFloat(tt.in).MarshalJSON()
			if err != nil || string(b) != tt.want {
				t.Errorf("pyFloat(%v).MarshalJSON() = %s, %v, want %s", tt.in, b, err, tt.want)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	msg := assertMsg{MsgType: "assert-status", No: 2, Desc: "caf\u00e9 <b>&amp; \U0001F600",
		Cond: "a\"b\\c\n\t\b\f\x01\x7f\u2028", Status: Passed, TestID: "x"}
	// Python: json.dumps of the same dict.
	want := `{"msg-type": "assert-status", "assert-no": 2, "assert-desc": "caf\u00e9 <b>&amp; \ud83d\ude00", "assert-cond": "a\"b\\c\n\t\b\f\u0001\u007f\u2028", "test-status": "passed", "test-id": "x"}`
	got, err := encode(msg)
	if err != nil || string(got) != want {
		t.Errorf("encode(%+v) = %s, %v, want %s", msg, got, err, want)
	}
}
