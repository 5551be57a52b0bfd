package swarm

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/docker/docker/client"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// EnvAllowInsecureTCP, set to 1, lets lvc use a plain tcp:// engine on
// another host. Without TLS anybody on the network can drive that engine.
const EnvAllowInsecureTCP = "LVC_ALLOW_INSECURE_TCP"

// Engine is the Docker implementation of Runtime.
type Engine struct {
	cli       *client.Client
	swarmNode string // hostname of the engine's swarm node

	owner string // LabelOwner of what this view creates and lists; "" all

	locks    *keyedMutex // serialises ensures of one object within this process
	requests *atomic.Int64
	agent    string // the exec agent program for its containers, "" none
}

// newEngine makes an Engine over cli; views made by WithOwner share its
// locks and request count.
func newEngine(cli *client.Client, swarmNode string) *Engine {
	return &Engine{cli: cli, swarmNode: swarmNode, locks: &keyedMutex{}, requests: &atomic.Int64{}}
}

// WithOwner returns a view of the engine that labels what it creates with
// owner and lists only owner's objects. The view shares the connection;
// closing either closes both.
func (e *Engine) WithOwner(owner string) *Engine {
	v := *e
	v.owner = owner
	return &v
}

// Owner is the view's owner, "" for the whole engine.
func (e *Engine) Owner() string { return e.owner }

var _ Runtime = (*Engine)(nil)

// NewFromEnv connects to the engine named by DOCKER_HOST, DOCKER_TLS_VERIFY
// and DOCKER_CERT_PATH (the local socket when unset), negotiating the API
// version. As with the docker CLI, DOCKER_TLS_VERIFY without
// DOCKER_CERT_PATH takes the certificates from ~/.docker. The caller
// closes the Engine.
func NewFromEnv(ctx context.Context) (*Engine, error) {
	host, verify, certPath := os.Getenv("DOCKER_HOST"), os.Getenv("DOCKER_TLS_VERIFY") != "", os.Getenv("DOCKER_CERT_PATH")
	if err := checkEndpoint(host, verify || certPath != "", os.Getenv(EnvAllowInsecureTCP) == "1"); err != nil {
		return nil, err
	}
	e := newEngine(nil, "")
	var opts []client.Opt
	// The client library uses TLS only with DOCKER_CERT_PATH: without this
	// it would speak plain HTTP where DOCKER_TLS_VERIFY asked for TLS.
	if verify && certPath == "" && (strings.HasPrefix(host, "tcp://") || strings.HasPrefix(host, "https://")) {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("DOCKER_TLS_VERIFY is set without DOCKER_CERT_PATH and there is no home directory for ~/.docker: %w", err)
		}
		dir := filepath.Join(home, ".docker")
		opts = append(opts, client.WithTLSClientConfig(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")))
	}
	opts = append(opts, client.FromEnv, client.WithAPIVersionNegotiation(), e.countRequests)
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	info, err := cli.Info(ctx)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker engine at %s does not answer: %w (run hack/ensure-docker.sh)", cli.DaemonHost(), err)
	}
	e.cli, e.swarmNode = cli, info.Name
	if strings.HasPrefix(cli.DaemonHost(), "unix://") {
		e.agent = findAgent() // its containers can bind-mount it from here
	}
	return e, nil
}

// countRequests counts API requests, for the idle-cost benchmark and for
// logs, with a filter of the tracing wrapper the client puts around its
// transport: it sees every request and traces them all. Wrapping the
// transport itself would hide the *http.Transport from the client, which
// then speaks plain HTTP to a TLS endpoint and dials exec streams
// without TLS.
func (e *Engine) countRequests(c *client.Client) error {
	return client.WithTraceOptions(otelhttp.WithFilter(func(*http.Request) bool {
		e.requests.Add(1)
		return true
	}))(c)
}

// Requests is the number of API requests made so far.
func (e *Engine) Requests() int64 { return e.requests.Load() }

// Client exposes the Docker client for callers that need more than Runtime.
func (e *Engine) Client() *client.Client { return e.cli }

// Close releases the client's connections.
func (e *Engine) Close() error { return e.cli.Close() }

// checkEndpoint refuses a plain tcp:// engine on another host: the seed's
// set-up exposed dockerd unauthenticated on port 2375, and lvc must not
// need that.
func checkEndpoint(host string, tls, allowInsecure bool) error {
	if host == "" || tls || allowInsecure {
		return nil
	}
	u, err := url.Parse(host)
	if err != nil {
		return fmt.Errorf("DOCKER_HOST %q: %w", host, err)
	}
	if u.Scheme != "tcp" && u.Scheme != "http" {
		return nil
	}
	h := u.Hostname()
	if h == "localhost" {
		return nil
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("DOCKER_HOST %s is a plain TCP endpoint on another host: anyone who reaches it controls that engine; use TLS (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH) or ssh://, or set %s=1 to accept the risk", host, EnvAllowInsecureTCP)
}

// keyedMutex hands out one mutex per key.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*sync.Mutex{}
	}
	l, ok := k.m[key]
	if !ok {
		l = &sync.Mutex{}
		k.m[key] = l
	}
	k.mu.Unlock()
	l.Lock()
	return l.Unlock
}
