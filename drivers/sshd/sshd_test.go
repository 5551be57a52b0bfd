package sshd

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestFilesAreStableAndConsistent(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	hosts := []Host{{Names: []string{"node-1", "sampler-1"}, IP: "10.0.0.2"}, {Names: []string{"node-2"}, IP: "10.0.0.3"}}
	var c PEMCache
	a, err := c.Files(secret, "c", "node-1", hosts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Files(secret, "c", "node-1", hosts)
	for i := range a {
		if !bytes.Equal(a[i].Content, b[i].Content) {
			t.Errorf("Files() twice: %s differs", a[i].Path)
		}
	}
	files := map[string][]byte{}
	for _, f := range a {
		files[f.Path] = f.Content
	}
	// The host key in known_hosts under all of node-1's names is the
	// one node-1 serves.
	signer, err := ssh.ParsePrivateKey(files[HostKeyPath])
	if err != nil {
		t.Fatal(err)
	}
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	wantLine := "node-1,sampler-1,10.0.0.2 " + pub
	if !strings.Contains(string(files[KnownHostsPath]), wantLine+"\n") {
		t.Errorf("known_hosts = %q, want a line %q", files[KnownHostsPath], wantLine)
	}
	// authorized_keys holds the cluster's root public key.
	root, err := ssh.ParsePrivateKey(files[RootKeyPath])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(files[AuthorizedPath]), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(root.PublicKey())))) {
		t.Errorf("authorized_keys = %q, want the root key", files[AuthorizedPath])
	}
	// Another cluster secret gives other keys.
	other, _ := c.Files(bytes.Repeat([]byte{8}, 32), "c", "node-1", hosts)
	if bytes.Equal(other[0].Content, a[0].Content) {
		t.Errorf("two secrets gave the same host key")
	}
}
