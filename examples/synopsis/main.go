// Command synopsis is the seed's Python SYNOPSIS and its "Example
// Results" test, written against lvc's Go API: get or create the
// ldms_slurm cluster, use its containers, check aggregation on agg-2 and a
// Slurm job's id in each sampler's slurm_sampler set, and report the three
// assertions to a TADA daemon.
//
//	go run ./examples/synopsis -f manifests/ldms-slurm.yaml
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
	_ "github.com/ovis-hpc/lvc/drivers/swarm" // the engine driver cluster.New connects with
	"github.com/ovis-hpc/lvc/tada"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code, err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "synopsis:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func run(ctx context.Context) (int, error) {
	file := flag.String("f", "manifests/ldms-slurm.yaml", "the cluster's manifest")
	name := flag.String("name", "", "cluster name (default: the manifest's)")
	keep := flag.Bool("keep", false, "keep the cluster at the end (default: remove it)")
	tadaHost := flag.String("tada-host", tada.DefaultHost, "tadad host")
	tadaPort := flag.Int("tada-port", tada.DefaultPort, "tadad UDP port")
	flag.Parse()

	docs, err := v1.LoadFile(*file)
	if err != nil {
		return 0, err
	}
	if err := v1.Errors(docs).Err(); err != nil {
		return 0, err
	}
	spec := docs[0].Cluster
	if *name != "" {
		spec.Metadata.Name, spec.Spec.Name = *name, ""
	}
	// Without an OVIS build the cluster could never be Ready with ldmsd.
	if bin := filepath.Join(spec.Spec.OvisPrefix, "sbin", "ldmsd"); !exists(bin) {
		fmt.Printf("no OVIS build (%s is missing): running without ldmsd\n", bin)
		spec.Spec.Services = slices.DeleteFunc(spec.Spec.Services, func(s string) bool { return s == v1.ServiceLdmsd })
	}

	client, err := cluster.New(ctx, cluster.DefaultOptions())
	if err != nil {
		return 0, err
	}
	defer client.Close()

	test, err := tada.New(tada.Config{Suite: "LDMSD", Type: "LDMSD", Name: "agg + slurm_sampler + slurm_notifier",
		Host: *tadaHost, Port: *tadaPort, Out: os.Stdout})
	if err != nil {
		return 0, err
	}
	test.AddAssertion(1, "ldms_ls agg-2")
	test.AddAssertion(2, "slurm job_id verification on sampler-1")
	test.AddAssertion(3, "slurm job_id verification on sampler-2")

	fmt.Println("-- Get or create the cluster --")
	c, err := client.GetOrCreate(ctx, spec, 3*time.Minute)
	if err != nil {
		return 0, err
	}
	if !*keep {
		defer func() {
			fmt.Println("-- remove the cluster --")
			if err := c.Remove(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintln(os.Stderr, "remove:", err)
			}
		}()
	}
	if err := c.Wait(ctx, v1.ConditionReady); err != nil {
		return 0, err
	}
	if err := test.Start(ctx); err != nil {
		return 0, err
	}

	// The SYNOPSIS: containers, by name or alias, files and exec.
	conts, err := c.Containers(ctx)
	if err != nil {
		return 0, err
	}
	fmt.Printf("containers: %d\n", len(conts))
	cont, err := c.Container(ctx, "sampler-1")
	if err != nil {
		return 0, err
	}
	if err := cont.WriteFile(ctx, "/tmp/synopsis", []byte("string content")); err != nil {
		return 0, err
	}
	content, err := cont.ReadFile(ctx, "/tmp/synopsis")
	if err != nil {
		return 0, err
	}
	r, err := cont.Shell(ctx, "df -h / | tail -1")
	if err != nil {
		return 0, err
	}
	fmt.Printf("%s (%s): read back %q; df rc=%d\n", cont.Hostname, cont.IP, content, r.ExitCode)

	ldmsd, err := cont.CheckLdmsd(ctx)
	if err != nil {
		return 0, err
	}
	if !ldmsd {
		fmt.Println("no ldmsd runs (is there an OVIS build at spec.ovis_prefix?): the assertions are skipped")
		return test.ExitCode(), test.Finish()
	}

	fmt.Println("-- ldms_ls to agg-2 --")
	var sets []cluster.Set
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		r, err := c.LdmsLs(ctx, "-x", "sock", "-p", "20001", "-h", "agg-2")
		if err != nil {
			return 0, err
		}
		if sets = cluster.ParseLdmsLs(string(r.Stdout)); len(sets) == 8 {
			break
		}
	}
	for _, s := range sets {
		fmt.Println(s.Name)
	}
	test.Assert(1, len(sets) == 8, "dir result verified")

	fmt.Println("Submitting job ...")
	if _, err := c.Exec(ctx, "sh", "-c", "printf '#!/bin/sh\\nsrun sleep 10\\n' > /tmp/job.sh"); err != nil {
		return 0, err
	}
	job, err := c.Sbatch(ctx, "/tmp/job.sh", "-N", "2")
	if err != nil {
		return 0, err
	}
	fmt.Printf("jobid: %d\n", job)
	for i, host := range []string{"sampler-1", "sampler-2"} {
		ok, err := jobSeen(ctx, c, host, job)
		if err != nil {
			return 0, err
		}
		test.Assert(2+i, ok, "job_id verified")
	}
	if err := c.Scancel(ctx, job); err != nil {
		return 0, err
	}
	if err := test.Finish(); err != nil && !errors.Is(err, tada.ErrUndeclared) {
		return 0, err
	}
	return test.ExitCode(), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// jobSeen polls host's slurm_sampler set for job in its job_id metric.
func jobSeen(ctx context.Context, c *cluster.Cluster, host string, job int) (bool, error) {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		r, err := c.LdmsLs(ctx, "-x", "sock", "-p", "10000", "-h", host, "-l", host+"/slurm_sampler")
		if err != nil {
			return false, err
		}
		for _, s := range cluster.ParseLdmsLs(string(r.Stdout)) {
			for _, v := range strings.Split(s.Metrics["job_id"].Value, ",") {
				if v == strconv.Itoa(job) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}
