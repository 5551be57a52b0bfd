// Package swarm drives a Docker engine in swarm mode for lvc: the cluster's
// overlay network, its node containers, exec, files, process tables and
// events. It only ever changes objects that carry lvc's labels.
package swarm
