package topology

import (
	"fmt"
	"html"
	"strings"
)

// Box sizes of the SVG drawing, in pixels.
const (
	boxWidth   = 230
	lineHeight = 16
	padding    = 8
	gapX       = 40
	gapY       = 70
	margin     = 20
)

// SVG draws the graph: one row per aggregation level, the top aggregator
// at the top, samplers below, nodes without ldmsd (the service node) at
// the bottom; solid arrows carry LDMS sets up, dashed ones are Slurm's.
// A node with a daemon not running is outlined in red. Each node is a <g>
// with id "node-HOSTNAME" and class "node".
func (g *Graph) SVG() string {
	rows := g.Rows()
	type box struct{ x, y, w, h int }
	boxes := map[string]box{}
	width, y := 0, margin+24
	for _, row := range rows {
		rowH := 0
		for _, n := range row {
			rowH = max(rowH, (len(n.Daemons)+1)*lineHeight+2*padding)
		}
		rowW := len(row)*boxWidth + (len(row)-1)*gapX
		width = max(width, rowW)
		for i, n := range row {
			boxes[n.Hostname] = box{x: i * (boxWidth + gapX), y: y, w: boxWidth, h: rowH}
		}
		y += rowH + gapY
	}
	height := y - gapY + margin
	width += 2 * margin
	// Center each row.
	for _, row := range rows {
		rowW := len(row)*boxWidth + (len(row)-1)*gapX
		off := (width-rowW)/2 - margin
		for _, n := range row {
			b := boxes[n.Hostname]
			b.x += margin + off
			boxes[n.Hostname] = b
		}
	}

	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace" font-size="12">`+"\n", width, height, width, height)
	s.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>` + "\n")
	title := g.Cluster
	if g.Phase != "" {
		title += " — " + g.Phase
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", margin, margin+4, html.EscapeString(title))
	for _, e := range g.Edges {
		from, okF := boxes[e.From]
		to, okT := boxes[e.To]
		if !okF || !okT {
			continue
		}
		x1, y1 := from.x+from.w/2, from.y
		x2, y2 := to.x+to.w/2, to.y+to.h
		if from.y < to.y { // an edge down the page (Slurm to its nodes)
			y1, y2 = from.y+from.h, to.y
		}
		dash := ""
		if e.Kind == EdgeSlurm {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&s, `<line class="edge %s" x1="%d" y1="%d" x2="%d" y2="%d" stroke="#555" stroke-width="1.5"%s marker-end="url(#arrow)"/>`+"\n", e.Kind, x1, y1, x2, y2, dash)
	}
	for _, row := range rows {
		for _, n := range row {
			b := boxes[n.Hostname]
			stroke := "#333"
			for _, d := range n.Daemons {
				if !d.healthy() {
					stroke = "#c00"
				}
			}
			fmt.Fprintf(&s, `<g class="node" id="node-%s">`+"\n", html.EscapeString(n.Hostname))
			fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="#f7f7f2" stroke="%s" stroke-width="1.5"/>`+"\n", b.x, b.y, b.w, b.h, stroke)
			ty := b.y + padding + lineHeight - 4
			fmt.Fprintf(&s, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", b.x+padding, ty, html.EscapeString(n.title()))
			for _, d := range n.Daemons {
				ty += lineHeight
				fill := "#222"
				if !d.healthy() {
					fill = "#c00"
				}
				fmt.Fprintf(&s, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", b.x+padding+8, ty, fill, html.EscapeString(d.line()))
			}
			s.WriteString("</g>\n")
		}
	}
	s.WriteString("</svg>\n")
	return s.String()
}
