package cluster

import (
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/internal/store"
)

// Wait sees the status file's writes through the watch of its directory,
// not only by polling: with polls an hour apart, it still returns as soon
// as the file says Ready.
func TestWaitWatchesTheStatusFile(t *testing.T) {
	defer func(first, most time.Duration) { pollFirst, pollMax = first, most }(pollFirst, pollMax)
	pollFirst, pollMax = time.Hour, time.Hour
	st := store.Status{Dir: t.TempDir()}
	cl := &Cluster{client: &Client{status: st}, Name: "c"}
	obj := &v1.LDMSDCluster{TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.Kind}, Metadata: v1.ObjectMeta{Name: "c", Generation: 1}}
	obj.Status = &v1.LDMSDClusterStatus{Phase: v1.PhaseProgressing}
	if err := st.Write(obj); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cl.Wait(t.Context(), v1.ConditionReady) }()
	time.Sleep(100 * time.Millisecond) // past the first read
	obj.Status = &v1.LDMSDClusterStatus{Phase: v1.PhaseReady, ObservedGeneration: 1,
		Conditions: []v1.Condition{{Type: v1.ConditionReady, Status: v1.ConditionTrue}}}
	if err := st.Write(obj); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not see the status file become Ready")
	}
}
