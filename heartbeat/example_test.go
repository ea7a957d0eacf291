package heartbeat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"time"

	"github.com/go-keepalive/keepalive/heartbeat"
)

// A server evicts a client that stops sending. Reads through the wrapper
// returned by Monitor.TrackConn count as activity, so a talkative client is
// never evicted.
func ExampleMonitor() {
	evicted := make(chan string, 1)
	m, err := heartbeat.NewMonitor(heartbeat.MonitorConfig[string]{
		IdleTimeout: 50 * time.Millisecond,
		OnEvict: func(key string, c io.Closer, reason heartbeat.Reason) {
			evicted <- key + ": " + reason.String()
		},
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	server, client := net.Pipe()
	defer client.Close()
	conn, err := m.TrackConn("client-42", server)
	if err != nil {
		panic(err)
	}

	// The client never sends anything.
	fmt.Println(<-evicted)
	_, err = conn.Read(make([]byte, 1))
	fmt.Println("read after eviction:", err)
	// Output:
	// client-42: timed out
	// read after eviction: io: read/write on closed pipe
}

type deviceConn struct{ name string }

func (d *deviceConn) Close() error { return nil }

// A device that reboots and reconnects before its old connection timed
// out replaces it, instead of leaving a stale connection behind.
func ExampleMonitor_Track() {
	m, err := heartbeat.NewMonitor(heartbeat.MonitorConfig[string]{
		IdleTimeout: time.Minute,
		OnEvict: func(key string, c io.Closer, reason heartbeat.Reason) {
			fmt.Println(key, c.(*deviceConn).name, reason)
		},
	})
	if err != nil {
		panic(err)
	}
	first, second := &deviceConn{"first"}, &deviceConn{"second"}
	_ = m.Track("device-7", first)
	_ = m.Track("device-7", second) // the reconnect
	fmt.Println("tracked:", m.Len())

	// The old connection's handler exits late; its cleanup leaves the
	// new connection alone.
	fmt.Println("removed first:", m.Remove("device-7", first))
	m.Close()
	// Output:
	// device-7 first replaced
	// tracked: 1
	// removed first: false
	// device-7 second removed
}

func ExampleNewMonitor_invalid() {
	_, err := heartbeat.NewMonitor(heartbeat.MonitorConfig[int]{IdleTimeout: time.Second, Tick: time.Minute})
	fmt.Println(errors.Is(err, heartbeat.ErrInvalidConfig))
	var ce *heartbeat.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field)
	}
	// Output:
	// true
	// Tick
}

// A client whose server has stopped answering declares it dead after
// Count pings, and cancels its context with the reason.
func ExamplePinger() {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	p, err := heartbeat.NewPinger(heartbeat.PingerConfig{
		Idle:     20 * time.Millisecond,
		Interval: 10 * time.Millisecond,
		Count:    3,
		NoJitter: true,
		Ping: func(ctx context.Context) error {
			fmt.Println("ping") // sent, but never answered
			return nil
		},
		OnDead: cancel,
	})
	if err != nil {
		panic(err)
	}
	err = p.Run(ctx)

	var dead *heartbeat.DeadError
	fmt.Println(errors.Is(context.Cause(ctx), heartbeat.ErrPeerDead))
	fmt.Println(errors.As(err, &dead) && dead.Pings == 3)
	// Output:
	// ping
	// ping
	// ping
	// true
	// true
}

// Reading through Pinger.Wrap makes every answer (indeed any traffic)
// count, so a responsive server keeps the client going.
func ExamplePinger_Wrap() {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	go func() { // the server answers every ping
		buf := make([]byte, 4)
		for {
			if _, err := io.ReadFull(server, buf); err != nil {
				return
			}
			if _, err := server.Write([]byte("pong")); err != nil {
				return
			}
		}
	}()

	var conn net.Conn
	p, err := heartbeat.NewPinger(heartbeat.PingerConfig{
		Idle:          10 * time.Millisecond,
		Interval:      10 * time.Millisecond,
		AnswerTimeout: 10 * time.Second, // the peer answers; never dead
		Count:         2,
		Ping: func(ctx context.Context) error {
			deadline, _ := ctx.Deadline()
			_ = conn.SetWriteDeadline(deadline)
			_, err := conn.Write([]byte("ping"))
			return err
		},
	})
	if err != nil {
		panic(err)
	}
	if conn, err = p.Wrap(client); err != nil {
		panic(err)
	}
	go func() { _, _ = io.Copy(io.Discard, conn) }() // the client's reader

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	fmt.Println(p.Run(ctx))
	// Output:
	// context deadline exceeded
}

// brokenConn is a connection whose Close panics.
type brokenConn struct{}

func (brokenConn) Close() error { panic("close of a broken connection") }

// A connection whose Close panics does not take the server down: the
// Monitor recovers the panic, reports it to OnPanic, and goes on as if
// Close had returned.
func ExampleMonitorConfig_onPanic() {
	m, err := heartbeat.NewMonitor(heartbeat.MonitorConfig[string]{
		IdleTimeout: time.Minute,
		OnPanic: func(key string, c io.Closer, err *heartbeat.PanicError) {
			fmt.Println(key, err)
		},
		OnEvict: func(key string, c io.Closer, reason heartbeat.Reason) {
			fmt.Println(key, reason)
		},
	})
	if err != nil {
		panic(err)
	}
	_ = m.Track("device-7", brokenConn{})
	_ = m.Track("device-7", &deviceConn{"second"}) // closes the broken one
	m.Close()
	// Output:
	// device-7 heartbeat: panic in Close: close of a broken connection
	// device-7 replaced
	// device-7 removed
}

// A nil connection is refused, also when it is a nil pointer in an
// interface, which would otherwise panic when the Monitor closes it.
func ExampleMonitor_Track_nilConn() {
	m, err := heartbeat.NewMonitor(heartbeat.MonitorConfig[int]{IdleTimeout: time.Minute})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	var conn *net.TCPConn // e.g. from a failed type assertion
	err = m.Track(1, conn)
	fmt.Println(errors.Is(err, heartbeat.ErrNilConn), m.Len())
	// Output:
	// true 0
}

// A key that is not equal to itself could never be found again: it is
// refused, where hashing it would panic (a slice in an interface) or
// track it for good (a NaN).
func ExampleMonitor_Track_invalidKey() {
	m, err := heartbeat.NewMonitor(heartbeat.MonitorConfig[any]{IdleTimeout: time.Minute})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	fmt.Println(m.Track([]string{"device-7"}, &deviceConn{"first"}))
	fmt.Println(errors.Is(m.Track(math.NaN(), &deviceConn{"second"}), heartbeat.ErrInvalidKey))
	fmt.Println(m.Track("device-7", &deviceConn{"third"}), m.Len())
	// Output:
	// heartbeat: key not equal to itself
	// true
	// <nil> 1
}
