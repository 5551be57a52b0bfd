// Command docsection replaces a generated section of docs/reliability.md
// with its standard input, headed by the machine the run happened on:
//
//	go run ./internal/chaos/docsection -section fuzz < body.md
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ovis-hpc/lvc/internal/chaos"
)

func main() {
	section := flag.String("section", "", "name of the generated section")
	doc := flag.String("doc", chaos.DocPath, "document to update")
	flag.Parse()
	if err := run(*doc, *section); err != nil {
		fmt.Fprintln(os.Stderr, "docsection:", err)
		os.Exit(1)
	}
}

func run(doc, section string) error {
	if section == "" {
		return fmt.Errorf("-section is required")
	}
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	head := "_Generated " + chaos.Machine(context.Background()) + "._\n\n"
	return chaos.WriteSection(doc, section, head+string(body))
}
