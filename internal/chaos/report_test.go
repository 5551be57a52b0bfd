package chaos

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteSectionKeepsTheRest(t *testing.T) {
	p := filepath.Join(t.TempDir(), "doc.md")
	os.WriteFile(p, []byte("# Title\n\nby hand\n"), 0o644)
	for _, body := range []string{"one\n", "two"} {
		if err := WriteSection(p, "x", body); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteSection(p, "y", "why"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	want := "# Title\n\nby hand\n\n" + begin("x") + "\ntwo\n" + end("x") + "\n\n" + begin("y") + "\nwhy\n" + end("y") + "\n"
	if string(got) != want {
		t.Errorf("document =\n%s\nwant\n%s", got, want)
	}
}
