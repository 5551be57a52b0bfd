package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ovis-hpc/lvc/cluster"
	"github.com/ovis-hpc/lvc/engine"
)

// nodePath is the container side of cp: NAME:NODE:/path.
type nodePath struct {
	Cluster, Node, Path string
}

// parseNodePath reads NAME:NODE:PATH. An argument is a node path when it
// has two colons before any slash; write ./a:b:c for such a local file.
func parseNodePath(s string) (nodePath, bool) {
	name, rest, ok := strings.Cut(s, ":")
	if !ok || name == "" || strings.Contains(name, "/") {
		return nodePath{}, false
	}
	node, p, ok := strings.Cut(rest, ":")
	if !ok || node == "" || strings.Contains(node, "/") {
		return nodePath{}, false
	}
	if p == "" {
		p = "/"
	}
	if !path.IsAbs(p) {
		p = "/" + p
	}
	return nodePath{Cluster: name, Node: node, Path: p}, true
}

func newCpCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy files and directories between the host and a node",
		Long: `cp copies a file or a directory between the host and a node, byte for
byte, as docker cp does; the node side is written NAME:NODE:/path, NODE
being a hostname or an alias. When DST is an existing directory, SRC is
copied into it under its own name; otherwise DST names the copy. Copies to
a node are owned by root and keep their mode. A local path with two colons
before its first slash must be written ./a:b:c.`,
		Example: `  lvc cp ./job.sh ldms_slurm:node-5:/tmp/job.sh
  lvc cp ldms_slurm:sampler-1:/var/log/ldmsd.log .
  lvc cp ldms_slurm:agg-2:/etc/ldmsd.conf agg-2.conf`,
		Args: cobra.ExactArgs(2),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			src, srcNode := parseNodePath(args[0])
			dst, dstNode := parseNodePath(args[1])
			if srcNode == dstNode {
				return errors.New("cp copies between the host and a node: exactly one of SRC and DST must be NAME:NODE:/path")
			}
			ctx := cmd.Context()
			c, err := newClient(ctx, g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			np := src
			if dstNode {
				np = dst
			}
			ct, err := node(ctx, c, np.Cluster, np.Node)
			if err != nil {
				return err
			}
			e, err := interactive(c)
			if err != nil {
				return err
			}
			if dstNode {
				return copyToNode(ctx, e, ct, args[0], dst.Path)
			}
			return copyFromNode(ctx, e, ct, src.Path, args[1])
		},
	}
}

// copyToNode copies the host path src to dst in the container, through
// a tar stream, as docker cp does.
func copyToNode(ctx context.Context, cli engine.Interactive, ct *cluster.Container, src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("cp: %w", err)
	}
	dir, name := path.Dir(dst), path.Base(dst)
	st, err := cli.StatPath(ctx, ct.ID, dst)
	switch {
	case err == nil && st.Mode.IsDir():
		dir, name = dst, filepath.Base(src)
	case err == nil && fi.IsDir():
		return fmt.Errorf("cp: %s on %s is not a directory: cannot copy directory %s over it", dst, ct.Hostname, src)
	case err != nil && !errors.Is(err, engine.ErrNotFound):
		return fmt.Errorf("cp: stat %s on %s: %w", dst, ct.Hostname, err)
	case err != nil && strings.HasSuffix(dst, "/"):
		return fmt.Errorf("cp: directory %s does not exist on %s", dst, ct.Hostname)
	}
	if name == "/" || name == "." {
		return fmt.Errorf("cp: destination %s names no file", dst)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTar(pw, src, fi, name)) }()
	err = cli.CopyTo(ctx, ct.ID, dir, pr)
	pr.CloseWithError(errors.New("copy ended"))
	if err != nil {
		return fmt.Errorf("cp %s to %s:%s: %w", src, ct.Hostname, dst, err)
	}
	return nil
}

// writeTar writes src (a file or a tree) into a tar stream under name.
func writeTar(w io.Writer, src string, fi fs.FileInfo, name string) error {
	tw := tar.NewWriter(w)
	add := func(p string, fi fs.FileInfo, name string) error {
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			var err error
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() && link == "" {
			return nil // devices, sockets, fifos: skipped
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name, h.Uid, h.Gid, h.Uname, h.Gname = name, 0, 0, "root", "root"
		if fi.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	}
	if !fi.IsDir() {
		if err := add(src, fi, name); err != nil {
			return err
		}
		return tw.Close()
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return add(p, info, path.Join(name, filepath.ToSlash(rel)))
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// copyFromNode copies src in the container to the host path dst.
func copyFromNode(ctx context.Context, cli engine.Interactive, ct *cluster.Container, src, dst string) error {
	rc, st, err := cli.CopyFrom(ctx, ct.ID, src)
	if err != nil {
		return fmt.Errorf("cp %s:%s: %w", ct.Hostname, src, err)
	}
	defer rc.Close()
	dir, name := filepath.Dir(dst), filepath.Base(dst)
	fi, err := os.Stat(dst)
	switch {
	case err == nil && fi.IsDir():
		dir, name = dst, st.Name
	case err == nil && st.Mode.IsDir():
		return fmt.Errorf("cp: %s is not a directory: cannot copy directory %s over it", dst, src)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cp: %w", err)
	case err != nil && strings.HasSuffix(dst, string(filepath.Separator)):
		return fmt.Errorf("cp: directory %s does not exist", dst)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("cp: %w", err)
	}
	defer root.Close()
	return extractTar(rc, root, st.Name, name)
}

// extractTar writes a tar stream whose entries are under from into root,
// under to instead. Entries cannot leave root: os.Root refuses paths and
// symbolic links that would.
func extractTar(r io.Reader, root *os.Root, from, to string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cp: read archive: %w", err)
		}
		name := path.Clean(h.Name)
		rest, ok := strings.CutPrefix(name, from)
		if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
			return fmt.Errorf("cp: unexpected archive entry %q", h.Name)
		}
		target := filepath.FromSlash(to + rest)
		mode := fs.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("cp: %w", err)
			}
			if err := root.Chmod(target, mode|0o700); err != nil {
				return fmt.Errorf("cp: %w", err)
			}
		case tar.TypeReg:
			f, err := root.OpenFile(target, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
			if err != nil {
				return fmt.Errorf("cp: %w", err)
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = root.Chmod(target, mode)
			}
			if err == nil {
				err = root.Chtimes(target, h.ModTime, h.ModTime)
			}
			if err != nil {
				return fmt.Errorf("cp: %w", err)
			}
		case tar.TypeSymlink:
			_ = root.Remove(target)
			if err := root.Symlink(h.Linkname, target); err != nil {
				return fmt.Errorf("cp: %w", err)
			}
		}
	}
}
