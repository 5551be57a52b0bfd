package swarm

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
)

// DistributeImage saves an image from src once and loads it into every
// target engine that lacks that image ID, as the seed's "Distribute Docker
// Image" step did by hand: with no registry, this is how nodes get it.
// report is told, per node, "up to date" or "loaded".
func DistributeImage(ctx context.Context, src *Engine, targets map[string]*Engine, ref string, report func(node, what string)) error {
	ins, err := src.cli.ImageInspect(ctx, ref)
	if err != nil {
		return fmt.Errorf("image %s on the source engine %s: %w", ref, src.cli.DaemonHost(), err)
	}
	nodes := make([]string, 0, len(targets))
	for n := range targets {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	var tmp string
	defer func() {
		if tmp != "" {
			os.Remove(tmp)
		}
	}()
	for _, n := range nodes {
		e := targets[n]
		if have, err := e.cli.ImageInspect(ctx, ref); err == nil && have.ID == ins.ID {
			report(n, "up to date")
			continue
		}
		if tmp == "" {
			if tmp, err = saveImage(ctx, src, ref); err != nil {
				return err
			}
		}
		f, err := os.Open(tmp)
		if err != nil {
			return err
		}
		resp, err := e.cli.ImageLoad(ctx, f)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("load %s into swarm node %s: %w", ref, n, err)
		}
		if have, err := e.cli.ImageInspect(ctx, ref); err != nil || have.ID != ins.ID {
			return fmt.Errorf("load %s into swarm node %s: the image is not there afterwards (%v)", ref, n, err)
		}
		report(n, "loaded")
	}
	return nil
}

func saveImage(ctx context.Context, src *Engine, ref string) (string, error) {
	rc, err := src.cli.ImageSave(ctx, []string{ref})
	if err != nil {
		return "", fmt.Errorf("save %s: %w", ref, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "lvc-image-*.tar")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("save %s: %w", ref, err)
	}
	return f.Name(), f.Close()
}
