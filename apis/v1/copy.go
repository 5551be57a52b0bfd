package v1

import "encoding/json"

// DeepCopy returns a copy of c that shares no memory with it.
func (c *LDMSDCluster) DeepCopy() *LDMSDCluster {
	if c == nil {
		return nil
	}
	data, err := json.Marshal(c)
	if err != nil {
		panic("v1: deep copy: " + err.Error()) // every field marshals
	}
	var out LDMSDCluster
	if err := json.Unmarshal(data, &out); err != nil {
		panic("v1: deep copy: " + err.Error())
	}
	out.Source = c.Source
	return &out
}
