// Package v1 defines the LDMSDCluster manifest (apiVersion lvc/v1): its
// types, strict decoding, defaults, validation and the expansion of daemon
// templates, environments and %key% references into resolved daemons.
package v1
