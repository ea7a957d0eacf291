// Package dbtest is what the database driver examples' tests share: find or
// start a real server, record the connections a driver's pool dials, make
// the server vanish under them with keepalivetest, and time what the pool
// does against the detection bound.
//
// Every driver is measured the same way (see Run): the Config on the live
// pooled connection is read back with keepalive.Get; then the server vanishes
// mid-session and (a) an idle pooled connection must be dropped by the kernel
// within the bound and the next query succeed on a fresh connection, (b) a
// query sent after it vanished must fail within the user timeout, and a slow
// query it was running when it vanished within the keepalive bound, and (c)
// with the driver's default dialer the query hangs until a context deadline
// ends it (or past it), the kernel still retransmitting.
package dbtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-keepalive/keepalive"
	"github.com/go-keepalive/keepalive/internal/tcpinfo"
	"github.com/go-keepalive/keepalive/keepalivetest"
)

// DialFunc is the dial hook of pgx, go-redis and lib/pq (through an
// adapter): the shape of net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Service names a server the tests need.
type Service struct {
	Env     string   // the variable .ci/services.sh exports, such as KEEPALIVE_REDIS_ADDR
	Name    string   // its name for .ci/services.sh: postgres, redis or mariadb
	Package string   // the Debian package that installs it
	Binary  []string // where its server binary may be; globs allowed
}

var (
	Postgres = Service{"KEEPALIVE_POSTGRES_URL", "postgres", "postgresql", []string{"/usr/lib/postgresql/*/bin/postgres"}}
	Redis    = Service{"KEEPALIVE_REDIS_ADDR", "redis", "redis-server", []string{"/usr/bin/redis-server"}}
	MariaDB  = Service{"KEEPALIVE_MYSQL_DSN", "mariadb", "mariadb-server", []string{"/usr/sbin/mariadbd"}}
)

// Server returns where s runs: the value of s.Env when set (CI sets it),
// else the address of an instance started for this test with
// .ci/services.sh and stopped when t ends. The test is skipped, saying why,
// only when the server is not installed.
func Server(t *testing.T, s Service) string {
	t.Helper()
	if v := os.Getenv(s.Env); v != "" {
		return v
	}
	if !installed(s) {
		t.Skipf("%s is not installed (apt-get install %s), and %s is not set; .ci/run installs and starts it", s.Name, s.Package, s.Env)
	}
	script, err := findScript()
	require.NoError(t, err)
	start := time.Now()
	out, err := exec.Command("bash", script, "start", s.Name).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("%s start %s: %v\n%s", script, s.Name, err, exit.Stderr)
	}
	require.NoError(t, err)
	env := exports(out)
	t.Cleanup(func() {
		if err := exec.Command("bash", script, "stop", env["KEEPALIVE_SERVICES_DIR"]).Run(); err != nil {
			t.Errorf("stop %s: %v", s.Name, err)
		}
	})
	t.Logf("%s started for this test in %v", s.Name, time.Since(start).Round(time.Millisecond))
	require.NotEmpty(t, env[s.Env], "%s start %s exported no %s", script, s.Name, s.Env)
	return env[s.Env]
}

func installed(s Service) bool {
	for _, pattern := range s.Binary {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return true
		}
	}
	return false
}

// findScript finds .ci/services.sh above the test's directory.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, ".ci", "services.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dbtest: .ci/services.sh not found above the test's directory")
		}
		dir = parent
	}
}

// exports parses `export NAME=value` lines, with optional single quotes.
func exports(out []byte) map[string]string {
	env := map[string]string{}
	lines := bufio.NewScanner(bytes.NewReader(out))
	for lines.Scan() {
		name, value, ok := strings.Cut(strings.TrimPrefix(lines.Text(), "export "), "=")
		if ok {
			env[name] = strings.Trim(value, "'")
		}
	}
	return env
}

// Dials records every connection a dial func makes, so that a test can
// make the server vanish under exactly the connections a pool holds.
type Dials struct {
	mu    sync.Mutex
	conns []net.Conn
}

// Wrap returns dial, recording each connection it returns.
func (d *Dials) Wrap(dial DialFunc) DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err == nil {
			d.mu.Lock()
			d.conns = append(d.conns, c)
			d.mu.Unlock()
		}
		return c, err
	}
}

func (d *Dials) closeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		_ = c.Close()
	}
}

// alive counts the connections from the from'th dialed on that are still
// open and ESTABLISHED.
func (d *Dials) alive(from int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.conns[from:] {
		if tc, ok := c.(*net.TCPConn); ok {
			if info, err := tcpinfo.Get(tc); err == nil && info.State == unix.BPF_TCP_ESTABLISHED {
				n++
			}
		}
	}
	return n
}

// Len returns how many connections were dialed so far.
func (d *Dials) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

// Last returns the last connection dialed.
func (d *Dials) Last(t testing.TB) net.Conn {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	require.NotEmpty(t, d.conns, "the pool dialed no connection")
	return d.conns[len(d.conns)-1]
}

// Pool is a driver's connection pool, limited to one connection, so that
// the connection the server vanishes under is the one the next query uses.
type Pool interface {
	// Query makes one round trip to the server (SELECT 1, PING).
	Query(ctx context.Context) error
	// Slow sends a query that the server answers only after 10 s
	// (pg_sleep, SLEEP, BLPOP), sending nothing meanwhile.
	Slow(ctx context.Context) error
	Close() error
}

// Driver is how one driver's example builds its pool.
type Driver struct {
	Name    string
	Service Service
	// Open returns a pool on the server at where, of at most one
	// connection, built by the example's own code with cfg, or with the
	// driver's defaults when cfg is nil. The pool's dial hook must be
	// passed through wrap.
	Open func(t *testing.T, where string, cfg *keepalive.Config, wrap func(DialFunc) DialFunc) Pool
	// CancelWaitsForServer says that a context deadline does not end a
	// query whose server vanished: the driver's cancellation waits for the
	// server to answer it (lib/pq).
	CancelWaitsForServer bool
}

// Run measures drv against a real server with cfg, whose detection bound
// must equal its UserTimeout (as keepalive.Within makes it), in parallel
// subtests. Making the server vanish needs CAP_NET_ADMIN on the host: the
// server lives in the host's network namespace, so keepalivetest.RunIsolated
// cannot help, and without it Run skips with keepalivetest.Check's reason.
func Run(t *testing.T, drv Driver, cfg keepalive.Config) {
	if err := keepalivetest.Check(); err != nil {
		t.Skipf("cannot make %s vanish: %v (the server runs in the host's network namespace, so this needs root or CAP_NET_ADMIN there)", drv.Service.Name, err)
	}
	where := Server(t, drv.Service)
	bound, err := cfg.DetectionBound()
	require.NoError(t, err)
	require.Equal(t, bound, cfg.UserTimeout, "the scenarios share one bound")

	open := func(t *testing.T, cfg *keepalive.Config) (Pool, *Dials, net.Conn) {
		dials := &Dials{}
		pool := drv.Open(t, where, cfg, dials.Wrap)
		t.Cleanup(func() { _ = pool.Close() })
		// Close the sockets first (cleanups run last-in first-out): a
		// driver closing a pool politely would wait for the vanished
		// server to answer.
		t.Cleanup(dials.closeAll)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, pool.Query(ctx), "the first query")
		require.Equal(t, 1, dials.Len(), "the pool must hold one connection")
		return pool, dials, dials.Last(t)
	}

	t.Run("the pooled connection holds the Config", func(t *testing.T) {
		t.Parallel()
		_, _, conn := open(t, &cfg)
		state, err := keepalive.Get(conn)
		require.NoError(t, err)
		assert.True(t, state.Enabled, "keepalive is off on the driver's connection")
		assert.Equal(t, cfg, state.Config, "the kernel holds something else on the driver's connection")
		t.Logf("%s: kernel holds %+v on the pooled connection %s", drv.Name, state.Config, conn.LocalAddr())
	})

	t.Run("idle pooled connection is dropped, next query on a fresh one", func(t *testing.T) {
		t.Parallel()
		pool, dials, conn := open(t, &cfg)
		settle(t, conn)
		start := time.Now()
		require.NoError(t, keepalivetest.Vanish(conn))
		took := waitClosed(t, conn, start, bound+5*time.Second)
		Ratio(t, drv.Name+": idle pooled connection dropped", took, bound, 1.0, 1.2)

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		queried := time.Now()
		require.NoError(t, pool.Query(ctx), "the next query must succeed on a fresh connection")
		t.Logf("%s: next query succeeded in %v", drv.Name, time.Since(queried).Round(time.Millisecond))
		assert.Equal(t, 1, dials.alive(1), "the pool must hold exactly one fresh, live connection")
	})

	t.Run("query in flight fails within the user timeout", func(t *testing.T) {
		t.Parallel()
		pool, _, conn := open(t, &cfg)
		settle(t, conn)
		require.NoError(t, keepalivetest.Vanish(conn))
		ctx, cancel := context.WithTimeout(context.Background(), 3*bound)
		defer cancel()
		start := time.Now()
		err := pool.Query(ctx)
		took := time.Since(start)
		require.Error(t, err, "a query to a vanished server succeeded")
		require.NoError(t, ctx.Err(), "the context deadline ended the query, not the kernel: %v", err)
		t.Logf("%s: query failed: %v", drv.Name, err)
		Ratio(t, drv.Name+": query in flight failed", took, cfg.UserTimeout, 1.0, 1.5)
		// The kernel dropped the connection, unless the driver closed the
		// socket on the error already (go-redis reports io.EOF then).
		if info, infoErr := tcpinfo.Get(conn.(*net.TCPConn)); infoErr == nil {
			assert.Equal(t, uint8(unix.BPF_TCP_CLOSE), info.State, "the kernel must have dropped the connection")
		} else {
			require.ErrorIs(t, infoErr, net.ErrClosed)
			t.Logf("%s closed the socket on the error itself", drv.Name)
		}
	})

	t.Run("slow query whose server vanishes fails within the bound", func(t *testing.T) {
		t.Parallel()
		pool, _, conn := open(t, &cfg)
		settle(t, conn)
		ctx, cancel := context.WithTimeout(context.Background(), 3*bound)
		defer cancel()
		sent := time.Now()
		done := make(chan error, 1)
		go func() { done <- pool.Slow(ctx) }()
		// The query reaches the server and is acknowledged; then nothing
		// flows until its answer, and the server vanishes meanwhile.
		time.Sleep(300 * time.Millisecond)
		settle(t, conn)
		start := time.Now()
		require.NoError(t, keepalivetest.Vanish(conn))
		err := <-done
		took := time.Since(start)
		require.Error(t, err, "a query to a vanished server succeeded")
		require.NoError(t, ctx.Err(), "the context deadline ended the query, not the kernel: %v", err)
		t.Logf("%s: slow query failed: %v", drv.Name, err)
		// Nothing is unacknowledged, so keepalive decides, counting from
		// the last segment heard: the query's ACK, before the server
		// vanished.
		heard := start.Sub(sent)
		Ratio(t, drv.Name+": slow query whose server vanished failed", took, bound, float64(bound-heard)/float64(bound), 1.2)
	})

	t.Run("Go's defaults: the query hangs", func(t *testing.T) {
		t.Parallel()
		pool, _, conn := open(t, nil)
		defaults, err := keepalive.Get(conn)
		require.NoError(t, err)
		settle(t, conn)
		require.NoError(t, keepalivetest.Vanish(conn))
		deadline := 2 * bound
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- pool.Query(ctx) }()

		// Just before the deadline the query is still waiting and the
		// kernel still retransmitting it: nothing would end it but the
		// deadline, for ~15 minutes. (The driver may close the socket
		// at the deadline, so look now.)
		time.Sleep(deadline - 250*time.Millisecond)
		info := state(t, conn)
		assert.Equal(t, uint8(unix.BPF_TCP_ESTABLISHED), info.State, "without a user timeout the kernel must still be retransmitting")
		assert.Positive(t, info.Total_retrans, "the query's segments must be retransmitted")
		select {
		case err := <-done:
			t.Fatalf("the query ended after %v, before its deadline: %v", time.Since(start), err)
		default:
		}

		var outcome string
		grace := 5 * time.Second
		select {
		case err := <-done:
			took := time.Since(start)
			require.False(t, drv.CancelWaitsForServer, "the query ended after %v: %v", took, err)
			require.Error(t, err, "a query to a vanished server succeeded")
			require.True(t, timedOut(err), "the query failed, but not by its context deadline: %v", err)
			// The driver may set the context's deadline on the socket,
			// whose timer can fire just before the context's own.
			assert.GreaterOrEqual(t, took, deadline-50*time.Millisecond)
			outcome = fmt.Sprintf("the query hung until the %v context deadline ended it (%.1fx the bound)", deadline, float64(took)/float64(bound))
		case <-time.After(250*time.Millisecond + grace):
			require.True(t, drv.CancelWaitsForServer, "the query outlived its context deadline by %v", grace)
			outcome = fmt.Sprintf("the query outlived its %v context deadline, still hanging %v after it (the driver's cancel waits for the vanished server to answer)", deadline, grace)
			_ = conn.Close() // release the query
			<-done
		}
		idle := "never (keepalive off)"
		if b := defaults.DetectionBound(); b > 0 && defaults.Enabled {
			idle = "after " + b.String()
		}
		Record(fmt.Sprintf("%s: with the driver's default dialer (keepalive %v, %v idle, %v interval, %d probes, no user timeout) %s; the kernel would give up after ~%v (tcp_retries2), and drops an idle pooled connection %s",
			drv.Name, defaults.Enabled, defaults.Config.Idle, defaults.Config.Interval, defaults.Config.Count, outcome, RetransmissionGiveUp().Round(time.Second), idle))
	})
}

// timedOut reports whether err says a deadline ended the wait: the
// context's, or the socket's set from it.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// settle waits until nothing the test sent is unacknowledged, so that a
// scenario starts from an idle connection, not from a delayed ACK.
func settle(t *testing.T, conn net.Conn) {
	t.Helper()
	require.Eventually(t, func() bool { return state(t, conn).Unacked == 0 }, 2*time.Second, 5*time.Millisecond,
		"data still unacknowledged before the server vanished")
}

// waitClosed polls the kernel's state of conn until it is CLOSE (the kernel
// dropped it) and returns how long that took from start.
func waitClosed(t *testing.T, conn net.Conn, start time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for {
		if state(t, conn).State == unix.BPF_TCP_CLOSE {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("the kernel did not drop the connection within %v", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func state(t *testing.T, conn net.Conn) *unix.TCPInfo {
	t.Helper()
	tc, ok := conn.(*net.TCPConn)
	require.True(t, ok, "the driver's connection is a %T, not a *net.TCPConn", conn)
	info, err := tcpinfo.Get(tc)
	require.NoError(t, err)
	return info
}

// RetransmissionGiveUp is how long Linux retransmits unacknowledged data
// before it gives up when no user timeout is set: tcp_retries2 backed-off
// retransmission timeouts from the 200 ms minimum, each capped at 120 s
// (924.6 s, about 15 minutes, for the default 15).
func RetransmissionGiveUp() time.Duration {
	retries := 15
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_retries2"); err == nil {
		_, _ = fmt.Sscan(string(b), &retries)
	}
	var total time.Duration
	rto := 200 * time.Millisecond
	for range retries + 1 {
		total += rto
		rto = min(2*rto, 120*time.Second)
	}
	return total
}

var report struct {
	sync.Mutex
	lines []string
}

// Record adds a line to the report that Report prints.
func Record(line string) {
	report.Lock()
	report.lines = append(report.lines, line)
	report.Unlock()
}

// Ratio checks that took is within [lo, hi] times bound and records it.
func Ratio(t *testing.T, what string, took, bound time.Duration, lo, hi float64) {
	t.Helper()
	ratio := float64(took) / float64(bound)
	line := fmt.Sprintf("%s after %.2fs (bound %v, ratio %.2f)", what, took.Seconds(), bound, ratio)
	t.Log(line)
	Record(line)
	assert.GreaterOrEqual(t, ratio, lo, "%s: before the bound", what)
	assert.LessOrEqual(t, ratio, hi, "%s: later than %.2f times the bound", what, hi)
}

// Main runs the tests and prints the report, for TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	sort.Strings(report.lines)
	if len(report.lines) > 0 {
		fmt.Printf("measured against a real server:\n  %s\n", strings.Join(report.lines, "\n  "))
	}
	return code
}
