package swarm_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

// certs is a CA with a server certificate for 127.0.0.1 and a client
// certificate, made here: no openssl.
type certs struct {
	ca                 *x509.Certificate
	caKey              *ecdsa.PrivateKey
	caPEM              []byte
	server             tls.Certificate
	clientPEM, keyPEM  []byte
	otherPEM, otherKey []byte // a client certificate of another CA
}

func newCA(t *testing.T, cn string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// leaf signs a certificate for usage; it returns certificate and key PEM.
func leaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage, ips ...net.IP) ([]byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func makeCerts(t *testing.T) *certs {
	c := &certs{}
	c.ca, c.caKey, c.caPEM = newCA(t, "lvc test CA")
	srvPEM, srvKey := leaf(t, c.ca, c.caKey, "127.0.0.1", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	var err error
	if c.server, err = tls.X509KeyPair(srvPEM, srvKey); err != nil {
		t.Fatal(err)
	}
	c.clientPEM, c.keyPEM = leaf(t, c.ca, c.caKey, "lvc test client", x509.ExtKeyUsageClientAuth)
	other, otherKey, _ := newCA(t, "another CA")
	c.otherPEM, c.otherKey = leaf(t, other, otherKey, "intruder", x509.ExtKeyUsageClientAuth)
	return c
}

// tlsProxy terminates TLS on 127.0.0.1 (client certificates of the CA
// required) and passes the bytes to the engine's unix socket, as a
// dockerd started with --tlsverify would serve them. It counts refused
// handshakes.
type tlsProxy struct {
	addr    string
	mu      sync.Mutex
	refused int
}

func startTLSProxy(t *testing.T, c *certs, socket string) *tlsProxy {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(c.ca)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{c.server}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &tlsProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, on bool) {
		mu.Lock()
		defer mu.Unlock()
		if on {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				tc := conn.(*tls.Conn)
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				if err := tc.Handshake(); err != nil {
					p.mu.Lock()
					p.refused++
					p.mu.Unlock()
					return
				}
				tc.SetDeadline(time.Time{})
				up, err := net.Dial("unix", socket)
				if err != nil {
					return
				}
				defer up.Close()
				track(conn, true)
				defer track(conn, false)
				// Each direction is half-closed when it ends, as exec's
				// stdin needs.
				done := make(chan struct{})
				go func() {
					io.Copy(up, tc)
					up.(*net.UnixConn).CloseWrite()
					close(done)
				}()
				io.Copy(tc, up)
				tc.CloseWrite()
				<-done
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return p
}

func (p *tlsProxy) refusals() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// A remote engine reached over TLS (DOCKER_HOST=tcp://..., DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH) does everything lvc needs: list, create a labelled
// network and container, exec with and without stdin, events; clients
// without a certificate of the CA are refused.
func TestIntegrationTLSEndpoint(t *testing.T) {
	local := testenv.Engine(t) // before DOCKER_HOST changes: for cleanup
	socket := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		socket = strings.TrimPrefix(h, "unix://")
	} else if h != "" {
		t.Skipf("DOCKER_HOST=%s: the TLS proxy needs the engine's unix socket", h)
	}
	c := makeCerts(t)
	proxy := startTLSProxy(t, c, socket)
	certDir := t.TempDir()
	for name, data := range map[string][]byte{"ca.pem": c.caPEM, "cert.pem": c.clientPEM, "key.pem": c.keyPEM} {
		if err := os.WriteFile(filepath.Join(certDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("DOCKER_HOST", "tcp://"+proxy.addr)
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	t.Setenv("DOCKER_CERT_PATH", certDir)
	ctx := t.Context()
	e, err := swarm.NewFromEnv(ctx)
	if err != nil {
		t.Fatalf("NewFromEnv over TLS: %v", err)
	}
	defer e.Close()
	if got := e.Client().DaemonHost(); got != "tcp://"+proxy.addr {
		t.Fatalf("client talks to %s, want the TLS proxy", got)
	}

	// DOCKER_TLS_VERIFY alone takes the certificates of ~/.docker, as the
	// docker CLI does.
	home := t.TempDir()
	os.Symlink(certDir, filepath.Join(home, ".docker"))
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CERT_PATH", "")
	if e2, err := swarm.NewFromEnv(ctx); err != nil {
		t.Errorf("NewFromEnv over TLS with ~/.docker: %v", err)
	} else {
		e2.Close()
	}
	t.Setenv("DOCKER_CERT_PATH", certDir)

	cluster := testenv.ClusterName(t, local)
	evs := e.Events(ctx)
	if _, err := e.EnsureNetwork(ctx, swarm.NetworkSpec{Name: cluster, Cluster: cluster}); err != nil {
		t.Fatalf("EnsureNetwork over TLS: %v", err)
	}
	ct, err := e.EnsureContainer(ctx, swarm.ContainerSpec{
		Name: cluster + "-1", Hostname: "node-1", Image: testenv.Image(), Network: cluster,
		Labels: map[string]string{swarm.LabelCluster: cluster, swarm.LabelNode: "node-1"},
	})
	if err != nil {
		t.Fatalf("EnsureContainer over TLS: %v", err)
	}
	if !ct.Running || ct.IP == "" {
		t.Fatalf("container %+v: want running on the network", ct)
	}
	r, err := e.Exec(ctx, ct.ID, swarm.ExecOptions{Argv: []string{"hostname"}})
	if err != nil || strings.TrimSpace(string(r.Stdout)) != "node-1" {
		t.Fatalf("exec hostname over TLS = %q, %v; want node-1", r.Stdout, err)
	}
	// Stdin travels and is closed: WriteFiles depends on it.
	want := []byte("over TLS\n")
	if err := e.WriteFiles(ctx, ct.ID, []swarm.File{{Path: "/tmp/tls", Content: want, Mode: 0o600}}); err != nil {
		t.Fatalf("WriteFiles over TLS: %v", err)
	}
	if got, err := e.ReadFile(ctx, ct.ID, "/tmp/tls"); err != nil || string(got) != string(want) {
		t.Fatalf("ReadFile over TLS = %q, %v; want %q", got, err, want)
	}
	if ps, err := e.Top(ctx, ct.ID); err != nil || len(ps) == 0 {
		t.Fatalf("Top over TLS = %v, %v", ps, err)
	}
	listed, err := e.Containers(ctx, cluster)
	if err != nil || len(listed) != 1 {
		t.Fatalf("Containers over TLS = %d, %v; want 1", len(listed), err)
	}
	deadline := time.After(10 * time.Second)
	for started := false; !started; {
		select {
		case ev := <-evs:
			started = ev.Cluster == cluster && ev.Action == "start"
		case <-deadline:
			t.Fatal("no start event over TLS within 10s")
		}
	}
	if err := e.RemoveContainer(ctx, ct.ID); err != nil {
		t.Fatal(err)
	}
	ns, err := e.Networks(ctx, cluster)
	if err != nil || len(ns) != 1 {
		t.Fatalf("Networks over TLS = %v, %v", ns, err)
	}
	if err := e.RemoveNetwork(ctx, ns[0].ID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := e.Containers(ctx, cluster); len(cs) != 0 {
		t.Errorf("after removal %d containers", len(cs))
	}
	if n := e.Requests(); n < 10 {
		t.Errorf("Requests() = %d after a dozen API calls, want them counted", n)
	}

	// Refused: no client certificate, another CA's, and plain HTTP.
	caFile := filepath.Join(certDir, "ca.pem")
	otherDir := t.TempDir()
	os.WriteFile(filepath.Join(otherDir, "cert.pem"), c.otherPEM, 0o600)
	os.WriteFile(filepath.Join(otherDir, "key.pem"), c.otherKey, 0o600)
	before := proxy.refusals()
	for _, tc := range []struct {
		name string
		opts []client.Opt
	}{
		{"no client certificate", []client.Opt{client.WithTLSClientConfig(caFile, "", "")}},
		{"another CA's certificate", []client.Opt{client.WithTLSClientConfig(caFile, filepath.Join(otherDir, "cert.pem"), filepath.Join(otherDir, "key.pem"))}},
	} {
		cli, err := client.NewClientWithOpts(append(tc.opts, client.WithHost("tcp://"+proxy.addr), client.WithAPIVersionNegotiation())...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.Info(ctx); err == nil {
			t.Errorf("%s: Info() succeeded, want the engine to refuse", tc.name)
		} else {
			t.Logf("%s: refused: %v", tc.name, err)
		}
		cli.Close()
	}
	conn, err := net.Dial("tcp", proxy.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, _ := bufio.NewReader(conn).ReadString('\n'); strings.Contains(line, "200") {
		t.Errorf("plain HTTP to the TLS port answered %q", line)
	}
	conn.Close()
	deadline2 := time.Now().Add(5 * time.Second)
	for proxy.refusals()-before < 3 && time.Now().Before(deadline2) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := proxy.refusals() - before; n < 3 {
		t.Errorf("proxy refused %d handshakes, want at least 3", n)
	}
}
