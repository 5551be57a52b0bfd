package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/internal/store"
)

func newEventsCommand(g *globalOptions) *cobra.Command {
	var follow bool
	var output string
	cmd := &cobra.Command{
		Use:   "events NAME [-f] [-o text|json]",
		Short: "Print a cluster's event log: what lvc did and why",
		Long: `events prints the event log lvc-controller and lvc up keep for a cluster
in the status directory, one event a line: time, type (Normal or Warning),
reason, object (node or node/daemon) and message. -f keeps printing new
events as they are written, until interrupted. -o json prints the log's
JSON lines as they are.`,
		Example: `  lvc events ldms_slurm
  lvc events ldms_slurm -f`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("unknown output format %q: text or json", output)
			}
			st := store.Status{Dir: g.StatusDir}
			path := st.EventsPath(args[0])
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !follow {
				// No events: an unknown cluster is an error, a known one
				// simply has none yet.
				if obj, _ := st.Read(args[0]); obj == nil && !manifestDeclares(g, args[0]) {
					return notFound(args[0])
				}
				return nil
			}
			return followEvents(cmd.Context(), cmd.OutOrStdout(), path, output == "json", follow)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// manifestDeclares tells whether a manifest declares name.
func manifestDeclares(g *globalOptions, name string) bool {
	idx, err := store.Scan(g.Manifests, nil)
	return err == nil && idx.Entries[name] != nil
}

// followEvents prints the complete lines of the event log at path; with
// follow it keeps polling for more until ctx ends (a normal end). A log
// that is removed or truncated is read again from its start.
func followEvents(ctx context.Context, w io.Writer, path string, raw, follow bool) error {
	var offset int64
	var partial []byte
	for {
		data, size, err := readFrom(path, offset)
		if err != nil {
			return err
		}
		if size < offset { // truncated, or removed and written anew
			offset, partial = 0, nil
			continue
		}
		offset += int64(len(data))
		partial = append(partial, data...)
		for {
			i := bytes.IndexByte(partial, '\n')
			if i < 0 {
				break
			}
			printEvent(w, partial[:i], raw)
			partial = partial[i+1:]
		}
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// readFrom returns the bytes of path after offset and the file's size;
// a missing file is empty.
func readFrom(path string, offset int64) ([]byte, int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if fi.Size() <= offset {
		return nil, fi.Size(), nil
	}
	data, err := io.ReadAll(io.NewSectionReader(f, offset, fi.Size()-offset))
	return data, fi.Size(), err
}

func printEvent(w io.Writer, line []byte, raw bool) {
	if raw {
		fmt.Fprintf(w, "%s\n", line)
		return
	}
	var ev v1.Event
	if json.Unmarshal(line, &ev) != nil {
		return // a torn line, as store.Events skips
	}
	fmt.Fprintf(w, "%s  %-7s  %-18s  %-14s  %s\n", ev.Time.Local().Format("2006-01-02T15:04:05.000Z07:00"), ev.Type, ev.Reason, dash(ev.Object), oneLine(ev.Message))
}
