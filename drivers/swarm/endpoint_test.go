package swarm

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NewFromEnv refuses a plain tcp:// engine on another host before it
// connects, and says why and how to proceed; TLS settings or the explicit
// opt-in let it try.
func TestNewFromEnvRefusesPlainTCP(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		refused bool
	}{
		{env: map[string]string{"DOCKER_HOST": "tcp://192.0.2.10:2375"}, refused: true},
		{env: map[string]string{"DOCKER_HOST": "http://engine.example:2375"}, refused: true},
		{env: map[string]string{"DOCKER_HOST": "tcp://192.0.2.10:2375", EnvAllowInsecureTCP: "true"}, refused: true}, // only 1 opts in
		{env: map[string]string{"DOCKER_HOST": "tcp://192.0.2.10:2375", EnvAllowInsecureTCP: "1"}},
		{env: map[string]string{"DOCKER_HOST": "tcp://192.0.2.10:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": t.TempDir()}},
	} {
		for _, k := range []string{"DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", EnvAllowInsecureTCP} {
			t.Setenv(k, tc.env[k])
		}
		ctx, cancel := contextWithTimeout(t)
		_, err := NewFromEnv(ctx)
		cancel()
		refused := err != nil && strings.Contains(err.Error(), "plain TCP endpoint on another host")
		if refused != tc.refused {
			t.Errorf("NewFromEnv with %v = %v, want refused %v", tc.env, err, tc.refused)
		}
		if refused {
			for _, why := range []string{"anyone who reaches it controls that engine", "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH", "ssh://", EnvAllowInsecureTCP + "=1"} {
				if !strings.Contains(err.Error(), why) {
					t.Errorf("refusal %q does not say %q", err, why)
				}
			}
		}
	}
}

func contextWithTimeout(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), 300*time.Millisecond) // allowed endpoints need not answer
}

// DOCKER_TLS_VERIFY without DOCKER_CERT_PATH means TLS with the
// certificates of ~/.docker, as for the docker CLI; never plain HTTP.
func TestNewFromEnvTLSVerifyWithoutCertPath(t *testing.T) {
	home := t.TempDir() // no .docker in it
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_HOST", "tcp://192.0.2.10:2376")
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	t.Setenv("DOCKER_CERT_PATH", "")
	t.Setenv(EnvAllowInsecureTCP, "")
	ctx, cancel := contextWithTimeout(t)
	defer cancel()
	_, err := NewFromEnv(ctx)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(home, ".docker", "ca.pem")) {
		t.Errorf("NewFromEnv with DOCKER_TLS_VERIFY and no certificates = %v, want an error about %s", err, filepath.Join(home, ".docker", "ca.pem"))
	}
}
