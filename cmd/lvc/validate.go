package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/plan"
)

func newValidateCommand(*globalOptions) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "validate -f FILE|DIR [-f ...]",
		Short: "Check manifests without Docker: print every error, exit 1 if any",
		Long:  "validate decodes, defaults and validates every document of each manifest (a directory gives its *.yaml, *.yml and *.json files). It prints every error as FILE doc N: FIELD.PATH: message and exits 1 when any manifest is invalid; otherwise it prints FILE: valid for each file.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.InOrStdin(), files)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file or directory, repeatable (- for standard input)")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// runValidate prints valid files to out and errors to errOut; it returns
// an error when any file is invalid.
func runValidate(out, errOut io.Writer, stdin io.Reader, paths []string) error {
	files, err := manifestFiles(paths)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no manifest files in %v", paths)
	}
	bad := 0
	for _, f := range files {
		docs, err := loadManifest(f, stdin)
		if err != nil {
			fmt.Fprintln(errOut, err)
			bad++
			continue
		}
		errs := v1.Errors(docs)
		switch {
		case len(errs) > 0:
			for _, e := range errs {
				fmt.Fprintln(errOut, e)
			}
			bad++
		case len(docs) == 0:
			fmt.Fprintf(errOut, "%s: no documents\n", f)
			bad++
		case unrunnable(errOut, f, docs):
			bad++
		default:
			fmt.Fprintf(out, "%s: valid\n", f)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d manifest files invalid", bad, len(files))
	}
	return nil
}

// unrunnable prints, and reports, the valid documents lvc cannot run as
// they stand: they name a host file that cannot be read (plan.ErrHostFile).
func unrunnable(errOut io.Writer, file string, docs []v1.Document) bool {
	found := false
	for _, d := range docs {
		if _, err := plan.Build(d.Cluster); errors.Is(err, plan.ErrHostFile) {
			fmt.Fprintf(errOut, "%s doc %d: %v\n", file, d.Source.Doc, err)
			found = true
		}
	}
	return found
}
