package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tadad is a UDP listener standing in for the TADA daemon.
type tadad struct {
	t  *testing.T
	pc net.PacketConn
}

func newTadad(t *testing.T) *tadad {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &tadad{t: t, pc: pc}
}

func (d *tadad) port() string {
	return strconv.Itoa(d.pc.LocalAddr().(*net.UDPAddr).Port)
}

// receive reads n datagrams decoded with UseNumber, so that the test sees
// whether a number was sent as an integer or a float.
func (d *tadad) receive(n int) []map[string]any {
	d.t.Helper()
	var msgs []map[string]any
	buf := make([]byte, 64<<10)
	for range n {
		_ = d.pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, _, err := d.pc.ReadFrom(buf)
		if err != nil {
			d.t.Fatalf("read datagram %d of %d: %v (got %v)", len(msgs)+1, n, err, msgs)
		}
		dec := json.NewDecoder(bytes.NewReader(buf[:k]))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			d.t.Fatalf("decode datagram %q: %v", buf[:k], err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// none fails if a datagram arrives shortly.
func (d *tadad) none() {
	d.t.Helper()
	_ = d.pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	buf := make([]byte, 64<<10)
	if k, _, err := d.pc.ReadFrom(buf); err == nil {
		d.t.Errorf("unexpected datagram %q", buf[:k])
	}
}

func TestTadaCommands(t *testing.T) {
	type step struct {
		no, result, cond string
	}
	tests := []struct {
		name      string
		asserts   []step
		wantMsgs  []string // NO STATUS COND of each assert-status, in order
		wantOut   string
		wantError bool
	}{
		{
			name:     "all passed",
			asserts:  []step{{"1", "PASS", "ldms_ls results"}, {"2", "true", "job 1"}, {"3", "passed", "job 2"}},
			wantMsgs: []string{"1 passed ldms_ls results", "2 passed job 1", "3 passed job 2"},
			wantOut: "assertion 1, ldms_ls agg-2: ldms_ls results, passed\n" +
				"assertion 2, job_id on sampler-1: job 1, passed\n" +
				"assertion 3, job_id on sampler-2: job 2, passed\n" +
				"test agg-slurm: 3 passed, 0 failed, 0 skipped\n",
		},
		{
			name:     "failed and skipped",
			asserts:  []step{{"1", "PASS", "ldms_ls results"}, {"3", "FAIL", "job_id results"}},
			wantMsgs: []string{"1 passed ldms_ls results", "3 failed job_id results", "2 skipped none"},
			wantOut: "assertion 1, ldms_ls agg-2: ldms_ls results, passed\n" +
				"assertion 3, job_id on sampler-2: job_id results, failed\n" +
				"assertion 2, job_id on sampler-1: skipped\n" +
				"test agg-slurm: 1 passed, 1 failed, 1 skipped\n",
			wantError: true,
		},
		{
			name:     "nothing asserted",
			wantMsgs: []string{"1 skipped none", "2 skipped none", "3 skipped none"},
			wantOut: "assertion 1, ldms_ls agg-2: skipped\n" +
				"assertion 2, job_id on sampler-1: skipped\n" +
				"assertion 3, job_id on sampler-2: skipped\n" +
				"test agg-slurm: 0 passed, 0 failed, 3 skipped\n",
			wantError: true,
		},
	}
	descs := map[string]string{"1": "ldms_ls agg-2", "2": "job_id on sampler-1", "3": "job_id on sampler-2"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTadad(t)
			state := filepath.Join(t.TempDir(), "test.json")
			var out strings.Builder
			run := func(args ...string) error {
				t.Helper()
				o, e, err := execute(t, args...)
				out.WriteString(o)
				if err == nil && e != "" {
					t.Errorf("lvc %s printed %q on stderr", strings.Join(args, " "), e)
				}
				return err
			}

			before := time.Now().Unix()
			if err := run("tada", "start", "--state", state, "--suite", "LDMSD", "--type", "FVT",
				"--name", "agg-slurm", "--desc", "two-level", "--host", "127.0.0.1", "--port", d.port(),
				"--user", "alice", "--commit", "abc123",
				"--assert", "1:ldms_ls agg-2", "--assert", "2:job_id on sampler-1", "--assert", "3:job_id on sampler-2"); err != nil {
				t.Fatalf("lvc tada start = %v, want nil", err)
			}
			after := time.Now().Unix()
			start := d.receive(1)[0]
			ts, ok := start["timestamp"].(json.Number)
			if !ok || !strings.Contains(ts.String(), ".") {
				t.Fatalf("test-start timestamp = %#v, want a float", start["timestamp"])
			}
			sec, _, _ := strings.Cut(ts.String(), ".")
			if n, _ := strconv.ParseInt(sec, 10, 64); n < before || n > after {
				t.Errorf("test-start timestamp = %s, want within [%d, %d]", ts, before, after)
			}
			sum := sha256.Sum256([]byte("LDMSD:FVT:agg-slurm:alice:abc123:" + sec))
			id := hex.EncodeToString(sum[:])
			wantStart := map[string]any{
				"msg-type": "test-start", "test-suite": "LDMSD", "test-type": "FVT", "test-name": "agg-slurm",
				"test-user": "alice", "commit-id": "abc123", "timestamp": ts, "test-id": id, "test-desc": "two-level",
			}
			if !reflect.DeepEqual(start, wantStart) {
				t.Errorf("test-start = %v, want %v", start, wantStart)
			}

			for _, s := range tt.asserts {
				if err := run("tada", "assert", "--state", state, s.no, s.result, s.cond); err != nil {
					t.Errorf("lvc tada assert %s %s = %v, want nil", s.no, s.result, err)
				}
			}
			err := run("tada", "finish", "--state", state)
			if (err != nil) != tt.wantError {
				t.Errorf("lvc tada finish = %v, want error %v", err, tt.wantError)
			}

			msgs := d.receive(len(tt.wantMsgs) + 1)
			for i, w := range tt.wantMsgs {
				f := strings.SplitN(w, " ", 3)
				want := map[string]any{
					"msg-type": "assert-status", "assert-no": json.Number(f[0]), "assert-desc": descs[f[0]],
					"assert-cond": f[2], "test-status": f[1], "test-id": id,
				}
				if !reflect.DeepEqual(msgs[i], want) {
					t.Errorf("message %d = %v, want %v", i+2, msgs[i], want)
				}
			}
			finish := msgs[len(msgs)-1]
			if fts, ok := finish["timestamp"].(json.Number); !ok || !strings.Contains(fts.String(), ".") {
				t.Errorf("test-finish timestamp = %#v, want a float", finish["timestamp"])
			}
			wantFinish := map[string]any{"msg-type": "test-finish", "test-id": id, "timestamp": finish["timestamp"]}
			if !reflect.DeepEqual(finish, wantFinish) {
				t.Errorf("test-finish = %v, want %v", finish, wantFinish)
			}
			d.none()
			if got := out.String(); got != tt.wantOut {
				t.Errorf("stdout = %q, want %q", got, tt.wantOut)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("state file after finish: stat = %v, want not exist", err)
			}
			if _, err := os.Stat(state + ".lock"); !os.IsNotExist(err) {
				t.Errorf("lock file after finish: stat = %v, want not exist", err)
			}
		})
	}
}

// Usage errors exit non-zero, send nothing and leave the state file as it
// was.
func TestTadaUsageErrors(t *testing.T) {
	t.Setenv(tadaStateEnv, "")
	d := newTadad(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "test.json")
	if _, _, err := execute(t, "tada", "start", "--state", state, "--suite", "s", "--type", "t", "--name", "n",
		"--host", "127.0.0.1", "--port", d.port(), "--assert", "1:a"); err != nil {
		t.Fatal(err)
	}
	d.receive(1)
	saved, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad result word", []string{"assert", "--state", state, "1", "0", "c"}, `result "0"`},
		{"undeclared", []string{"assert", "--state", state, "2", "PASS", "c"}, "assertion 2 is not declared"},
		{"bad number", []string{"assert", "--state", state, "one", "PASS", "c"}, "not an integer"},
		{"missing cond", []string{"assert", "--state", state, "1", "PASS"}, "accepts 3 arg"},
		{"no state flag", []string{"assert", "1", "PASS", "c"}, "--state FILE"},
		{"no state file", []string{"assert", "--state", missing, "1", "PASS", "c"}, "run lvc tada start first"},
		{"finish without state file", []string{"finish", "--state", missing}, "run lvc tada start first"},
		{"start over a running test", []string{"start", "--state", state, "--suite", "s", "--type", "t", "--name", "n",
			"--host", "127.0.0.1", "--port", d.port()}, "a test is in progress"},
		{"bad assert spec", []string{"start", "--state", missing, "--suite", "s", "--type", "t", "--name", "n",
			"--assert", "x:a"}, "want NO:DESC"},
		{"duplicate assert", []string{"start", "--state", missing, "--suite", "s", "--type", "t", "--name", "n",
			"--assert", "1:a", "--assert", "1:b"}, "declared twice"},
		{"no name", []string{"start", "--state", missing, "--suite", "s", "--type", "t"}, `"name" not set`},
		{"unresolvable host", []string{"start", "--state", missing, "--suite", "s", "--type", "t", "--name", "n",
			"--host", "no-such-host.invalid"}, "no-such-host.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := execute(t, append([]string{"tada"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("lvc tada %s = %v, want error containing %q", strings.Join(tt.args, " "), err, tt.want)
			}
			d.none()
			if got, _ := os.ReadFile(state); !bytes.Equal(got, saved) {
				t.Errorf("state file changed to %s, want %s", got, saved)
			}
			if _, err := os.Stat(missing); !os.IsNotExist(err) {
				t.Errorf("stat %s = %v, want not exist", missing, err)
			}
		})
	}
}

// Asserts run as parallel shell jobs all land in the state file, so that
// finish reports none of them as skipped.
func TestTadaParallelAsserts(t *testing.T) {
	d := newTadad(t)
	state := filepath.Join(t.TempDir(), "test.json")
	const n = 8
	args := []string{"tada", "start", "--state", state, "--suite", "s", "--type", "t", "--name", "n",
		"--user", "u", "--host", "127.0.0.1", "--port", d.port()}
	for i := 1; i <= n; i++ {
		args = append(args, "--assert", fmt.Sprintf("%d:a%d", i, i))
	}
	if _, _, err := execute(t, args...); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			if _, _, err := execute(t, "tada", "assert", "--state", state, strconv.Itoa(i), "true", "ok"); err != nil {
				t.Errorf("lvc tada assert %d = %v, want nil", i, err)
			}
		})
	}
	wg.Wait()
	out, _, err := execute(t, "tada", "finish", "--state", state)
	if err != nil {
		t.Errorf("lvc tada finish = %v, want nil", err)
	}
	if want := fmt.Sprintf("test n: %d passed, 0 failed, 0 skipped\n", n); out != want {
		t.Errorf("lvc tada finish printed %q, want %q", out, want)
	}
	msgs := d.receive(n + 2)
	for _, m := range msgs {
		if m["test-status"] == "skipped" {
			t.Errorf("message %v: want no skipped assertion", m)
		}
	}
	if got := msgs[len(msgs)-1]["msg-type"]; got != "test-finish" {
		t.Errorf("last message type = %v, want test-finish", got)
	}
}
