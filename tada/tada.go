package tada

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	// DefaultHost is where tadad is assumed to listen when Config.Host is
	// empty.
	DefaultHost = "localhost"
	// DefaultPort is the UDP port of tadad when Config.Port is 0.
	DefaultPort = 9862
	// DefaultCommitID is the commit-id sent when Config.CommitID is empty,
	// as the Python module did.
	DefaultCommitID = "-"
	// NoCond is the assert-cond of an assertion that was never asserted.
	NoCond = "none"
)

// Status is the test-status of an assertion.
type Status string

// The test-status values tadad understands.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

var (
	// ErrNotStarted is returned by Finish, and recorded by Assert, when
	// Start has not succeeded.
	ErrNotStarted = errors.New("test not started")
	// ErrStarted is returned by Start when the test already started.
	ErrStarted = errors.New("test already started")
	// ErrFinished is returned by Finish when the test already finished,
	// and recorded by Assert after Finish.
	ErrFinished = errors.New("test already finished")
	// ErrUndeclared is recorded by Assert for an assertion number that
	// AddAssertion never declared; Finish returns it wrapped.
	ErrUndeclared = errors.New("assertion not declared")
)

// Config identifies a test to tadad and says where tadad listens.
// (Suite, Type, Name, User, CommitID) identify the test in tadad's
// database: re-running with the same values replaces the earlier result.
type Config struct {
	// Suite, Type and Name are required.
	Suite string `json:"suite"`
	Type  string `json:"type"`
	Name  string `json:"name"`
	// User defaults to the name of the effective user.
	User string `json:"user"`
	// CommitID is the commit of the program under test; default "-".
	CommitID string `json:"commit-id"`
	// Desc is the test-desc; it defaults to Name, as in the Python module.
	Desc string `json:"desc"`
	// Host and Port locate tadad; default localhost:9862.
	Host string `json:"host"`
	Port int    `json:"port"`
	// Out, when not nil, receives one human-readable line per assertion
	// reported, e.g. "assertion 1, ldms_ls agg-2: ldms_ls results, passed".
	// Write errors are ignored.
	Out io.Writer `json:"-"`
}

// Assertion is a declared assertion and its latest result. Status is
// Skipped and Cond is NoCond until the assertion is asserted.
type Assertion struct {
	No     int    `json:"no"`
	Desc   string `json:"desc"`
	Cond   string `json:"cond"`
	Status Status `json:"status"`
}

// State is everything a started Test needs to go on in another process,
// e.g. across the separate `lvc tada` invocations of a shell test. It
// marshals to JSON; Config.Out is not saved.
type State struct {
	Config
	// Start is the start time, truncated to the microsecond.
	Start time.Time `json:"start"`
	// TestID is the test-id computed from Config and Start.
	TestID string `json:"test-id"`
	// Assertions are in declaration order.
	Assertions []Assertion `json:"assertions"`
	// Undeclared lists the numbers asserted without being declared.
	Undeclared []int `json:"undeclared,omitempty"`
}

// Test reports one run of a test to tadad. Declare the assertions with
// AddAssertion, then Start, Assert each, and Finish. Messages are UDP
// datagrams sent fire-and-forget: a tadad that is down or unreachable
// never makes a method fail. A Test is safe for concurrent use.
type Test struct {
	mu         sync.Mutex
	cfg        Config
	asserts    []Assertion
	undeclared []int
	errs       []error // misuse recorded by Assert
	start      time.Time
	id         string
	addr       *net.UDPAddr
	conn       *net.UDPConn
	finished   bool
	now        func() time.Time
}

// New validates cfg, fills in its defaults and returns a Test that has not
// started. It does not touch the network: Start resolves the host.
func New(cfg Config) (*Test, error) {
	if err := defaults(&cfg); err != nil {
		return nil, err
	}
	return &Test{cfg: cfg, now: time.Now}, nil
}

func defaults(cfg *Config) error {
	switch {
	case cfg.Suite == "":
		return errors.New("test suite is required")
	case cfg.Type == "":
		return errors.New("test type is required")
	case cfg.Name == "":
		return errors.New("test name is required")
	case cfg.Port < 0 || cfg.Port > 65535:
		return fmt.Errorf("tada port %d out of range", cfg.Port)
	}
	if cfg.User == "" {
		u, err := currentUser()
		if err != nil {
			return err
		}
		cfg.User = u
	}
	if cfg.CommitID == "" {
		cfg.CommitID = DefaultCommitID
	}
	if cfg.Desc == "" {
		cfg.Desc = cfg.Name
	}
	if cfg.Host == "" {
		cfg.Host = DefaultHost
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	return nil
}

// currentUser returns the login name of the effective user, as the Python
// module's pwd.getpwuid(os.geteuid()).
func currentUser() (string, error) {
	if uid := os.Geteuid(); uid >= 0 {
		if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
			return u.Username, nil
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username, nil
	}
	for _, env := range []string{"USER", "LOGNAME", "USERNAME"} {
		if v := os.Getenv(env); v != "" {
			return v, nil
		}
	}
	return "", errors.New("cannot determine the test user: set Config.User")
}

// AddAssertion declares assertion no with its description. Assertions are
// reported in declaration order; declaring a number again replaces its
// description and forgets its result, keeping its place.
func (t *Test) AddAssertion(no int, desc string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := Assertion{No: no, Desc: desc, Cond: NoCond, Status: Skipped}
	if i := t.find(no); i >= 0 {
		t.asserts[i] = a
		return
	}
	t.asserts = append(t.asserts, a)
}

func (t *Test) find(no int) int {
	for i, a := range t.asserts {
		if a.No == no {
			return i
		}
	}
	return -1
}

// Start resolves the tadad host, records the start time, computes the
// test-id and sends test-start. It returns an error when the host does not
// resolve or no socket can be opened, never because nothing listens.
func (t *Test) Start(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn != nil || t.finished {
		return ErrStarted
	}
	if err := t.dial(ctx); err != nil {
		return err
	}
	t.start = t.now().Truncate(time.Microsecond)
	t.id = testID(t.cfg, t.start)
	t.send(startMsg{
		MsgType:   "test-start",
		Suite:     t.cfg.Suite,
		Type:      t.cfg.Type,
		Name:      t.cfg.Name,
		User:      t.cfg.User,
		CommitID:  t.cfg.CommitID,
		Timestamp: timestamp(t.start),
		TestID:    t.id,
		Desc:      t.cfg.Desc,
	})
	return nil
}

// Restore returns the started Test that st describes, ready for Assert and
// Finish; it resolves the host like Start but sends nothing. st.Out, when
// set, receives the human-readable lines.
func Restore(ctx context.Context, st State) (*Test, error) {
	cfg := st.Config
	if err := defaults(&cfg); err != nil {
		return nil, fmt.Errorf("restore test: %w", err)
	}
	if st.TestID == "" || st.Start.IsZero() {
		return nil, fmt.Errorf("restore test %q: %w", cfg.Name, ErrNotStarted)
	}
	if want := testID(cfg, st.Start); st.TestID != want {
		return nil, fmt.Errorf("restore test %q: test-id %s does not match its fields and start time (want %s)", cfg.Name, st.TestID, want)
	}
	t := &Test{cfg: cfg, now: time.Now, start: st.Start, id: st.TestID}
	for _, a := range st.Assertions {
		switch {
		case t.find(a.No) >= 0:
			return nil, fmt.Errorf("restore test %q: assertion %d declared twice", cfg.Name, a.No)
		case a.Status != Passed && a.Status != Failed && a.Status != Skipped:
			return nil, fmt.Errorf("restore test %q: assertion %d: invalid status %q", cfg.Name, a.No, a.Status)
		}
		t.asserts = append(t.asserts, a)
	}
	t.undeclared = append([]int(nil), st.Undeclared...)
	if err := t.dial(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// dial resolves the host, preferring IPv4 as the Python module (AF_INET)
// did, and opens an unconnected UDP socket so that ICMP errors from a
// closed port never surface as write errors.
func (t *Test) dial(ctx context.Context) error {
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", t.cfg.Host)
	if err != nil {
		return fmt.Errorf("resolve tada host %q: %w", t.cfg.Host, err)
	}
	if len(ips) == 0 {
		return fmt.Errorf("resolve tada host %q: no address", t.cfg.Host)
	}
	ip := ips[0].Unmap()
	for _, a := range ips {
		if a.Unmap().Is4() {
			ip = a.Unmap()
			break
		}
	}
	network := "udp6"
	if ip.Is4() {
		network = "udp4"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		return fmt.Errorf("open udp socket for tada host %q: %w", t.cfg.Host, err)
	}
	t.addr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(t.cfg.Port)))
	t.conn = conn
	return nil
}

// Assert records and sends the result of assertion no: passed when cond
// is true, failed otherwise, with condDesc as assert-cond. It returns
// cond. Asserting again replaces the earlier result. Asserting a number
// never declared, before Start or after Finish sends nothing and makes the
// test fail; Finish reports it.
func (t *Test) Assert(no int, cond bool, condDesc string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.finished:
		t.errs = append(t.errs, fmt.Errorf("assert %d: %w", no, ErrFinished))
		return cond
	case t.conn == nil:
		t.errs = append(t.errs, fmt.Errorf("assert %d: %w", no, ErrNotStarted))
		return cond
	}
	i := t.find(no)
	if i < 0 {
		t.undeclared = append(t.undeclared, no)
		return cond
	}
	a := &t.asserts[i]
	a.Cond = condDesc
	a.Status = Failed
	if cond {
		a.Status = Passed
	}
	t.sendAssert(*a)
	return cond
}

// Finish sends every declared assertion never asserted as skipped, with
// assert-cond "none", then test-finish, and closes the socket. It returns
// ErrNotStarted or ErrFinished when it sends nothing, and otherwise the
// misuse Assert recorded (ErrUndeclared, ErrNotStarted), if any. Use
// Passed or ExitCode for the outcome of the test.
func (t *Test) Finish() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.finished:
		return ErrFinished
	case t.conn == nil:
		return ErrNotStarted
	}
	for _, a := range t.asserts {
		if a.Status == Skipped {
			t.sendAssert(a)
		}
	}
	t.send(finishMsg{MsgType: "test-finish", TestID: t.id, Timestamp: timestamp(t.now())})
	t.finished = true
	t.conn.Close()
	errs := append([]error(nil), t.errs...)
	for _, no := range t.undeclared {
		errs = append(errs, fmt.Errorf("assert %d: %w", no, ErrUndeclared))
	}
	return errors.Join(errs...)
}

// Passed reports whether every declared assertion passed and Assert
// recorded no misuse. A test that declares no assertion passes.
func (t *Test) Passed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errs) > 0 || len(t.undeclared) > 0 {
		return false
	}
	for _, a := range t.asserts {
		if a.Status != Passed {
			return false
		}
	}
	return true
}

// ExitCode is the exit status of the test run: 0 if Passed, 1 otherwise.
func (t *Test) ExitCode() int {
	if t.Passed() {
		return 0
	}
	return 1
}

// ID returns the test-id, empty before Start.
func (t *Test) ID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.id
}

// Assertions returns a copy of the declared assertions, in order.
func (t *Test) Assertions() []Assertion {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Assertion(nil), t.asserts...)
}

// State returns what Restore needs to continue the test elsewhere.
func (t *Test) State() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	cfg := t.cfg
	cfg.Out = nil
	return State{
		Config:     cfg,
		Start:      t.start,
		TestID:     t.id,
		Assertions: append([]Assertion(nil), t.asserts...),
		Undeclared: append([]int(nil), t.undeclared...),
	}
}

func (t *Test) sendAssert(a Assertion) {
	t.send(assertMsg{
		MsgType: "assert-status",
		No:      a.No,
		Desc:    a.Desc,
		Cond:    a.Cond,
		Status:  a.Status,
		TestID:  t.id,
	})
	if t.cfg.Out == nil {
		return
	}
	if a.Status == Skipped {
		fmt.Fprintf(t.cfg.Out, "assertion %d, %s: %s\n", a.No, a.Desc, a.Status)
		return
	}
	fmt.Fprintf(t.cfg.Out, "assertion %d, %s: %s, %s\n", a.No, a.Desc, a.Cond, a.Status)
}

// send writes msg as one datagram. UDP is fire-and-forget: errors are
// ignored so that a missing tadad never fails a test run.
func (t *Test) send(msg any) {
	b, err := encode(msg)
	if err != nil {
		return // unreachable: the messages are plain strings and numbers
	}
	_, _ = t.conn.WriteToUDP(b, t.addr)
}

// testID is the hex SHA-256 of suite:type:name:user:commit:int(start).
func testID(cfg Config, start time.Time) string {
	s := fmt.Sprintf("%s:%s:%s:%s:%s:%d", cfg.Suite, cfg.Type, cfg.Name, cfg.User, cfg.CommitID, start.Unix())
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// timestamp is t in float seconds, as Python's time.time(). Truncating to
// the microsecond keeps int(timestamp) equal to t.Unix().
func timestamp(t time.Time) pyFloat {
	return pyFloat(float64(t.UnixMicro()) / 1e6)
}

// The messages, with their fields in the order of the Python dicts.
type startMsg struct {
	MsgType   string  `json:"msg-type"`
	Suite     string  `json:"test-suite"`
	Type      string  `json:"test-type"`
	Name      string  `json:"test-name"`
	User      string  `json:"test-user"`
	CommitID  string  `json:"commit-id"`
	Timestamp pyFloat `json:"timestamp"`
	TestID    string  `json:"test-id"`
	Desc      string  `json:"test-desc"`
}

type assertMsg struct {
	MsgType string `json:"msg-type"`
	No      int    `json:"assert-no"`
	Desc    string `json:"assert-desc"`
	Cond    string `json:"assert-cond"`
	Status  Status `json:"test-status"`
	TestID  string `json:"test-id"`
}

type finishMsg struct {
	MsgType   string  `json:"msg-type"`
	TestID    string  `json:"test-id"`
	Timestamp pyFloat `json:"timestamp"`
}

// pyFloat marshals as Python's repr(float): always a float literal
// ("1700000000.0", not "1700000000"), exponent form below 1e-4 and from
// 1e16 on.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("unsupported float %v", v)
	}
	if abs := math.Abs(v); abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		return strconv.AppendFloat(nil, v, 'e', -1, 64), nil
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return []byte(s), nil
}

// encode marshals msg byte for byte as Python's json.dumps(msg) with its
// defaults: ", " and ": " separators, non-ASCII escaped as \uXXXX, no HTML
// escaping.
func encode(msg any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(msg); err != nil {
		return nil, err
	}
	return pythonize(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// pythonize rewrites compact JSON from encoding/json into json.dumps form.
func pythonize(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	inString, escaped := false, false
	for i := 0; i < len(b); {
		c := b[i]
		if !inString {
			out = append(out, c)
			switch c {
			case '"':
				inString = true
			case ',', ':':
				out = append(out, ' ')
			}
			i++
			continue
		}
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			inString = false
		case c >= utf8.RuneSelf-1: // DEL and every non-ASCII rune
			r, n := utf8.DecodeRune(b[i:])
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
			i += n
			continue
		}
		out = append(out, c)
		i++
	}
	return out
}
