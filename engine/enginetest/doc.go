// Package enginetest is an in-memory engine.Runtime for unit tests: no
// Docker engine, no Docker SDK.
//
// Fake keeps networks and containers in memory, each container with its
// files and a process table. Its Exec understands the few commands lvc
// runs: the file-writing script of engine.WriteFilesExec (sh -s), cat,
// pkill and pgrep -x, tail, sinfo, true, hostname, and sh -c probes
// (which succeed; an ldmsd check says listening while an ldmsd runs).
// Start adds the daemon of lvc's start script to the process table; Top
// lists it; pkill (or Kill) ends it.
//
// Events streams what the fake does, as the Docker engine would: a
// container's create, start, die and destroy, network disconnects and
// destroys, and an exec_die when an exec ends or a started daemon dies
// (its Exec carries the start's command, with engine.DaemonTag), so that
// a controller over a Fake reacts to what a test does to it (Kill, Stop,
// Disconnect, Emit).
//
// Tests look at what was done through Calls (counts by kind, see Calls),
// Mutations and Log, at the containers' state through Container, Files
// and Processes, and change the fake's behaviour with SetSlow, SetNoStart,
// SetSwarmNode and SetHook (fail or delay any call).
//
// Fake implements engine.Ownable: ForOwner returns a view over the same
// state that labels what it creates with its owner and lists only its
// owner's objects, as drivers/swarm does; counters, logs and events are
// shared by every view.
package enginetest
