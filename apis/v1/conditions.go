package v1

import "time"

// Daemon states (DaemonStatus.State).
const (
	DaemonRunning = "Running"
	DaemonStopped = "Stopped" // stopped on purpose; stays down
	DaemonExited  = "Exited"  // died under restart: never
	DaemonBackOff = "BackOff" // died again soon after a start; waiting
	DaemonFailed  = "Failed"  // could not be started
	// DaemonNotStarted: restart: manual, and not running (not started yet,
	// or ended).
	DaemonNotStarted = "NotStarted"
)

// FindCondition returns the condition typ of cs, or nil.
func FindCondition(cs []Condition, typ string) *Condition {
	for i := range cs {
		if cs[i].Type == typ {
			return &cs[i]
		}
	}
	return nil
}

// SetCondition sets a condition, keeping its transition time unless the
// status changes; it reports whether status, reason or message changed.
func SetCondition(cs *[]Condition, typ, status, reason, msg string, now time.Time) bool {
	if c := FindCondition(*cs, typ); c != nil {
		changed := c.Status != status || c.Reason != reason || c.Message != msg
		if c.Status != status {
			c.LastTransitionTime = now.UTC().Truncate(time.Second)
		}
		c.Status, c.Reason, c.Message = status, reason, msg
		return changed
	}
	*cs = append(*cs, Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: now.UTC().Truncate(time.Second)})
	return true
}

// Condition returns the condition typ of the cluster's status, or nil.
func (c *LDMSDCluster) Condition(typ string) *Condition {
	if c == nil || c.Status == nil {
		return nil
	}
	return FindCondition(c.Status.Conditions, typ)
}

// IsReady tells whether the status says Ready for the current spec: phase
// Ready, condition Ready True, and the generation observed.
func (c *LDMSDCluster) IsReady() bool {
	r := c.Condition(ConditionReady)
	return r != nil && r.Status == ConditionTrue && c.Status.Phase == PhaseReady &&
		c.Status.ObservedGeneration == c.Metadata.Generation
}

// Daemon returns the status of daemon name on node hostname, or nil.
func (c *LDMSDCluster) Daemon(hostname, name string) *DaemonStatus {
	if c == nil || c.Status == nil {
		return nil
	}
	for i := range c.Status.Nodes {
		n := &c.Status.Nodes[i]
		if n.Hostname != hostname {
			continue
		}
		for j := range n.Daemons {
			if n.Daemons[j].Name == name {
				return &n.Daemons[j]
			}
		}
	}
	return nil
}

// StalledNow returns the Stalled condition when it is True for the
// current generation, else nil.
func (c *LDMSDCluster) StalledNow() *Condition {
	s := c.Condition(ConditionStalled)
	if s == nil || s.Status != ConditionTrue || s.ObservedGeneration != c.Metadata.Generation {
		return nil
	}
	return s
}
