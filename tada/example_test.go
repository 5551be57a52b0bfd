package tada_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/ovis-hpc/lvc/tada"
)

// Example reports the seed README's test to a local stand-in for tadad:
// assertion 2 is never asserted, so it is reported as skipped and the run
// exits 1.
func Example() {
	// A stand-in for tadad on a free local port.
	tadad, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tadad.Close()

	test, err := tada.New(tada.Config{
		Suite: "LDMSD",
		Type:  "LDMSD",
		Name:  "agg + slurm_sampler + slurm_notifier",
		Host:  "127.0.0.1",
		Port:  tadad.LocalAddr().(*net.UDPAddr).Port,
		Out:   os.Stdout,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	test.AddAssertion(1, "ldms_ls agg-2")
	test.AddAssertion(2, "slurm job_id verification on sampler-1")
	test.AddAssertion(3, "slurm job_id verification on sampler-2")
	if err := test.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	test.Assert(1, true, "ldms_ls results")
	test.Assert(3, false, "job_id results")
	if err := test.Finish(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("exit code:", test.ExitCode())

	// What tadad received.
	buf := make([]byte, 4096)
	for range 5 {
		_ = tadad.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := tadad.ReadFrom(buf)
		if err != nil {
			fmt.Println(err)
			return
		}
		var msg struct {
			Type   string `json:"msg-type"`
			No     int    `json:"assert-no"`
			Status string `json:"test-status"`
		}
		if err := json.Unmarshal(buf[:n], &msg); err != nil {
			fmt.Println(err)
			return
		}
		if msg.Type == "assert-status" {
			fmt.Println(msg.Type, msg.No, msg.Status)
		} else {
			fmt.Println(msg.Type)
		}
	}
	// Output:
	// assertion 1, ldms_ls agg-2: ldms_ls results, passed
	// assertion 3, slurm job_id verification on sampler-2: job_id results, failed
	// assertion 2, slurm job_id verification on sampler-1: skipped
	// exit code: 1
	// test-start
	// assert-status 1 passed
	// assert-status 3 failed
	// assert-status 2 skipped
	// test-finish
}
