package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

// envCrashChild names the status directory TestCrashChild writes into.
const envCrashChild = "LVC_STORE_CRASH_CHILD"

// crashObject is a status object whose description is 64 KiB of one
// letter: a torn file shows as a short or mixed description.
func crashObject(i int) *v1.LDMSDCluster {
	letter := string(rune('a' + i%26))
	return &v1.LDMSDCluster{
		TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.Kind},
		Metadata: v1.ObjectMeta{Name: "crash", Generation: int64(i + 1)},
		Spec:     v1.LDMSDClusterSpec{Description: strings.Repeat(letter, 64<<10)},
	}
}

// TestCrashChild is the process TestWritesSurviveSIGKILL kills: it writes
// status files and events as fast as it can until killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(envCrashChild)
	if dir == "" {
		t.Skip("helper process of TestWritesSurviveSIGKILL")
	}
	s := Status{Dir: dir}
	for i := 0; ; i++ {
		if err := s.Write(crashObject(i)); err != nil {
			t.Fatal(err)
		}
		ev := v1.Event{Time: time.Now(), Type: "Normal", Reason: "Crash", Message: strconv.Itoa(i) + strings.Repeat("x", 2000)}
		if err := s.AppendEvent("crash", ev); err != nil {
			t.Fatal(err)
		}
	}
}

// A writer killed with SIGKILL at any moment leaves a status file that
// parses whole and an event log of whole lines; the temp files it leaves
// are removed by the next writer to take the lock.
func TestWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 25 processes")
	}
	dir := t.TempDir()
	s := Status{Dir: dir}
	kills := 0
	for i := range 25 {
		var size int64
		if fi, err := os.Stat(s.events("crash")); err == nil {
			size = fi.Size()
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envCrashChild+"="+dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it get going (its first event is out), then kill it at a
		// random point of its loop.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if fi, err := os.Stat(s.events("crash")); err == nil && fi.Size() > size {
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(150000)) * time.Microsecond) // an iteration takes 30-100 ms
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			kills++
		} else {
			t.Fatalf("child %d ended on its own (%v): %s", i, err, out.String())
		}

		c, err := s.Read("crash")
		if err != nil || c == nil {
			t.Fatalf("after kill %d: Read() = %v, %v; want a whole status file", i, c, err)
		}
		d := c.Spec.Description
		if len(d) != 64<<10 || strings.Trim(d, d[:1]) != "" {
			t.Fatalf("after kill %d: description of %d bytes, want 64 KiB of one letter", i, len(d))
		}
		data, err := os.ReadFile(s.events("crash"))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Fatalf("after kill %d: event log ends in a torn line", i)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for n := 1; sc.Scan(); n++ {
			var ev v1.Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("after kill %d: event line %d does not parse: %v", i, n, err)
			}
		}
	}
	t.Logf("%d kills, every file whole", kills)

	// The killed writers' temp files: aged past any write, the next lock
	// holder removes them; a fresh one (a write in flight) stays.
	temps, _ := filepath.Glob(filepath.Join(dir, ".*"+tempInfix+"*"))
	t.Logf("%d temp files left by killed writers", len(temps))
	stale := filepath.Join(dir, ".crash.yaml"+tempInfix+"stale") // as a kill between create and rename leaves
	os.WriteFile(stale, []byte("half"), 0o600)
	temps = append(temps, stale)
	old := time.Now().Add(-2 * time.Minute)
	for _, p := range temps {
		os.Chtimes(p, old, old)
	}
	fresh := filepath.Join(dir, ".other.yaml"+tempInfix+"123")
	os.WriteFile(fresh, nil, 0o600)
	release, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	release()
	left, _ := filepath.Glob(filepath.Join(dir, ".*"+tempInfix+"*"))
	if len(left) != 1 || left[0] != fresh {
		t.Errorf("temp files after Lock() = %v, want only the fresh %s", left, fresh)
	}
}

func TestScanMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	for _, tc := range []struct {
		dir         string
		wantMissing bool
	}{
		{filepath.Join(dir, "nosuch"), true},
		{file, true}, // not a directory
		{empty, false},
	} {
		idx, err := Scan(tc.dir, nil)
		if err != nil || idx.Missing != tc.wantMissing || len(idx.Entries) != 0 {
			t.Errorf("Scan(%s) = missing %v, %d entries, %v; want missing %v, 0 entries", tc.dir, idx.Missing, len(idx.Entries), err, tc.wantMissing)
		}
	}
}

// A YAML manifest that does not end with a newline may be a write cut
// short, which can still read as a valid, smaller cluster or as another
// name: it is Broken (its clusters keep their last entries), never
// applied. JSON cut short never parses and needs no final newline.
func TestScanCutShortYAML(t *testing.T) {
	const m = "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata:\n  name: %s\nspec:\n  services: []\n  daemons:\n  - host: s-1\n"
	named := fmt.Sprintf(m, "named")
	files := map[string]string{
		"whole.yaml": fmt.Sprintf(m, "whole"),
		"cut.yaml":   strings.TrimSuffix(fmt.Sprintf(m, "cut"), "\n"), // a valid manifest but for the newline
		"name.yml":   named[:strings.Index(named, "named")+3],         // cut in metadata.name: "nam"
		"tool.json":  `{"apiVersion":"lvc/v1","kind":"LDMSDCluster","metadata":{"name":"json"},"spec":{"services":[],"daemons":[{"host":"s-1"}]}}`,
	}
	dir := t.TempDir()
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	idx, err := Scan(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"whole", "json"} {
		if e := idx.Entries[name]; e == nil || !e.Valid() {
			t.Errorf("entry %s = %+v, want valid", name, e)
		}
	}
	for _, f := range []string{"cut.yaml", "name.yml"} {
		if err := idx.Broken[filepath.Join(dir, f)]; !errors.Is(err, ErrCutShort) {
			t.Errorf("Broken[%s] = %v, want ErrCutShort", f, err)
		}
	}
	if len(idx.Entries) != 2 {
		t.Errorf("entries = %v, want whole and json only", slices.Sorted(maps.Keys(idx.Entries)))
	}
}
