// Package slurm renders the Slurm configuration of a virtual cluster
// (slurm.conf, cgroup.conf, plugstack.conf). It depends only on apis/v1:
// package plan imports it, so it must not import plan.
package slurm
