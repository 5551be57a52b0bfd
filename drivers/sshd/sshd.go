package sshd

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Paths of the files Files writes.
const (
	HostKeyPath    = "/etc/ssh/ssh_host_ed25519_key"
	KnownHostsPath = "/etc/ssh/ssh_known_hosts"
	RootKeyPath    = "/root/.ssh/id_ed25519"
	AuthorizedPath = "/root/.ssh/authorized_keys"
)

// Argv is sshd in the foreground, logging to stderr, with only the host
// key lvc wrote.
func Argv() []string {
	return []string{"/usr/sbin/sshd", "-D", "-e", "-o", "HostKey=" + HostKeyPath}
}

// Pre is run before sshd starts: privilege separation needs /run/sshd.
const Pre = "mkdir -p /run/sshd && chmod 0755 /run/sshd"

// Host is one node as other nodes know it.
type Host struct {
	Names []string // hostname then aliases
	IP    string
}

// File is a file to write on a node.
type File struct {
	Path    string
	Content []byte
	Mode    uint32
}

func key(secret []byte, info string) (ed25519.PrivateKey, error) {
	seed, err := hkdf.Key(sha256.New, secret, nil, "lvc/ssh/"+info, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// PEMCache remembers marshalled private keys. The OpenSSH format holds a
// random check number, so marshalling one key twice gives different
// bytes; without the cache every resync would see "changed" key files.
// The zero value is ready to use.
type PEMCache struct {
	mu sync.Mutex
	m  map[[32]byte][]byte
}

func (c *PEMCache) privatePEM(k ed25519.PrivateKey, comment string) ([]byte, error) {
	id := sha256.Sum256(append(append([]byte{}, k.Seed()...), comment...))
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[id]; ok {
		return p, nil
	}
	block, err := ssh.MarshalPrivateKey(k, comment)
	if err != nil {
		return nil, err
	}
	p := pem.EncodeToMemory(block)
	if c.m == nil {
		c.m = map[[32]byte][]byte{}
	}
	if len(c.m) > 4096 { // bounded: clusters come and go
		clear(c.m)
	}
	c.m[id] = p
	return p, nil
}

func authorizedLine(k ed25519.PrivateKey, comment string) ([]byte, error) {
	pub, err := ssh.NewPublicKey(k.Public())
	if err != nil {
		return nil, err
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	return []byte(line + " " + comment + "\n"), nil
}

// Files returns the SSH files of node hostname: its host key pair, the
// cluster's root key pair and authorized_keys, and known_hosts for hosts.
// The same inputs give the same bytes.
func (c *PEMCache) Files(secret []byte, cluster, hostname string, hosts []Host) ([]File, error) {
	hostKey, err := key(secret, "host/"+hostname)
	if err != nil {
		return nil, err
	}
	rootKey, err := key(secret, "root")
	if err != nil {
		return nil, err
	}
	hostPriv, err := c.privatePEM(hostKey, "root@"+hostname)
	if err != nil {
		return nil, err
	}
	hostPub, err := authorizedLine(hostKey, "root@"+hostname)
	if err != nil {
		return nil, err
	}
	rootPriv, err := c.privatePEM(rootKey, "root@"+cluster)
	if err != nil {
		return nil, err
	}
	rootPub, err := authorizedLine(rootKey, "root@"+cluster)
	if err != nil {
		return nil, err
	}
	known, err := KnownHosts(secret, hosts)
	if err != nil {
		return nil, err
	}
	return []File{
		{Path: HostKeyPath, Content: hostPriv, Mode: 0o600},
		{Path: HostKeyPath + ".pub", Content: hostPub, Mode: 0o644},
		{Path: RootKeyPath, Content: rootPriv, Mode: 0o600},
		{Path: RootKeyPath + ".pub", Content: rootPub, Mode: 0o644},
		{Path: AuthorizedPath, Content: rootPub, Mode: 0o600},
		{Path: KnownHostsPath, Content: known, Mode: 0o644},
	}, nil
}

// KnownHosts lists every host's key under its names and IP.
func KnownHosts(secret []byte, hosts []Host) ([]byte, error) {
	var b strings.Builder
	for _, h := range hosts {
		if len(h.Names) == 0 {
			continue
		}
		k, err := key(secret, "host/"+h.Names[0])
		if err != nil {
			return nil, err
		}
		pub, err := ssh.NewPublicKey(k.Public())
		if err != nil {
			return nil, err
		}
		names := append([]string{}, h.Names...)
		if h.IP != "" {
			names = append(names, h.IP)
		}
		fmt.Fprintf(&b, "%s %s", strings.Join(names, ","), ssh.MarshalAuthorizedKey(pub))
	}
	return []byte(b.String()), nil
}
