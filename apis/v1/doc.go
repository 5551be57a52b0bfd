// Package v1 defines the LDMSDCluster manifest (apiVersion lvc/v1): its
// types, strict decoding, defaults, validation and the expansion of daemon
// templates, environments and %key% references into resolved daemons.
//
// A spec is in one of two formats: the 2019 seed format (spec.daemons,
// resolved by Expand) or the format of today's ovis-hpc/ldms-test
// scripts (spec.nodes and spec.templates, resolved by ExpandNodes into
// NodeSpec values). See LDMSDClusterSpec.
package v1
