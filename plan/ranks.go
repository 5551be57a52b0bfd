package plan

import "slices"

// Producers lists the other cluster nodes among d's peers (the hosts its
// config names), by hostname.
func (p *Plan) Producers(self string, d Daemon) []string {
	var out []string
	for _, host := range d.Peers {
		if n := p.Node(host); n != nil && n.Hostname != self && !slices.Contains(out, n.Hostname) {
			out = append(out, n.Hostname)
		}
	}
	return out
}

// LdmsdRanks orders nodes so that an ldmsd's producers rank below it:
// samplers 0, their aggregators 1, and so on. Nodes on a cycle share a
// rank after every other ldmsd node; nodes without ldmsd rank last.
func LdmsdRanks(p *Plan) map[string]int {
	deps := map[string][]string{} // ldmsd nodes → their producers
	for _, n := range p.Nodes {
		if len(n.DaemonsOf("ldmsd")) > 0 {
			deps[n.Hostname] = []string{}
		}
		for _, d := range n.DaemonsOf("ldmsd") {
			deps[n.Hostname] = append(deps[n.Hostname], p.Producers(n.Hostname, d)...)
		}
	}
	rank := map[string]int{}
	for level := 0; len(rank) < len(deps); level++ {
		var ready []string
		for node, ps := range deps {
			if _, done := rank[node]; done {
				continue
			}
			if !slices.ContainsFunc(ps, func(q string) bool { _, ranked := rank[q]; _, ldmsd := deps[q]; return ldmsd && !ranked }) {
				ready = append(ready, node)
			}
		}
		if len(ready) == 0 { // a cycle: the rest start together
			for node := range deps {
				if _, done := rank[node]; !done {
					rank[node] = level
				}
			}
			break
		}
		for _, node := range ready {
			rank[node] = level
		}
	}
	last := len(deps) + 1
	for _, n := range p.Nodes {
		if _, ok := rank[n.Hostname]; !ok {
			rank[n.Hostname] = last
		}
	}
	return rank
}
