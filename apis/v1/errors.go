package v1

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// FieldError is one problem of one document, at one field path.
type FieldError struct {
	File string // manifest path, may be empty
	Doc  int    // 1-based document number
	Path string // e.g. spec.daemons[2].asset; empty for a whole document
	Msg  string
}

// Error formats "FILE doc N: PATH: message".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(" ")
	}
	fmt.Fprintf(&b, "doc %d: ", e.Doc)
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found; it is an error when not empty.
type ErrorList []*FieldError

// Error joins the messages, one per line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find a single *FieldError.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// errs collects FieldErrors for one document.
type errs struct {
	src  Source
	list ErrorList
}

func (e *errs) add(path, format string, args ...any) {
	e.list = append(e.list, &FieldError{File: e.src.File, Doc: e.src.Doc, Path: path, Msg: fmt.Sprintf(format, args...)})
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// field appends a dict key to a path: a.b, or a["x.y"] when the key is
// not a plain word.
func field(path, key string) string {
	if !plainKey.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends a list index to a path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
