package heartbeat

import (
	"io"
	"net"
)

// TrackConn tracks c under key, like Track, and returns a wrapper of c that
// records activity on every Read that returns data, so no other code is
// needed to keep a busy connection alive. The wrapper's Close removes
// the tracking (OnEvict with Removed, only if this connection is still
// the one tracked under key) and closes c. Its CloseWrite calls c's
// CloseWrite if c has one. NetConn returns c.
//
// The Monitor tracks, closes and passes to OnEvict the wrapper, not c.
// A read costs one extra atomic comparison when the connection was
// already active in the current clock epoch, and a lock otherwise;
// it never allocates. Reads on a connection that is no longer tracked
// (timed out, replaced or removed) do not touch its key.
//
// Tracking the connection already tracked under key is a refresh, never
// a replacement, however it was tracked: a wrapper counts as the
// connection it wraps (see Track). If key is tracked with a wrapper of
// c, TrackConn refreshes it and returns that wrapper. If key is tracked
// with c itself (by Track), the new wrapper takes its place silently:
// nothing is closed and OnEvict is not called, neither now nor later for
// c; OnEvict is called once, for the wrapper, when the Monitor is done
// with it. Errors are those of Track; on error, TrackConn leaves c open
// (though one refused with ErrHalfClosed is still closed by the Monitor
// when its grace period ends, as Track says).
func (m *Monitor[K]) TrackConn(key K, c net.Conn) (net.Conn, error) {
	if isNil(c) {
		return nil, ErrNilConn
	}
	w := &monitoredConn[K]{Conn: c, m: m}
	tracked, err := m.track(key, w, &w.pos)
	if err != nil {
		return nil, err
	}
	return tracked.(*monitoredConn[K]), nil
}

// unwrap returns the connection that c stands for: the connection that
// a wrapper returned by m's TrackConn wraps (however deeply), or c.
func (m *Monitor[K]) unwrap(c io.Closer) io.Closer {
	for {
		w, ok := c.(*monitoredConn[K])
		if !ok || w.m != m {
			return c
		}
		c = w.Conn
	}
}

// sameConn reports whether a and b are the same connection: equal (with
// ==) once m's wrappers are unwrapped.
func (m *Monitor[K]) sameConn(a, b io.Closer) bool {
	return same(m.unwrap(a), m.unwrap(b))
}

type monitoredConn[K comparable] struct {
	net.Conn
	m   *Monitor[K]
	pos position[K]
}

func (c *monitoredConn[K]) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.pos.fresh() {
		c.pos.refresh(c)
	}
	return n, err
}

func (c *monitoredConn[K]) Close() error {
	key, removed := c.pos.remove(c)
	err := c.Conn.Close()
	if removed {
		c.m.notify(key, c, Removed)
	}
	return err
}

func (c *monitoredConn[K]) CloseWrite() error { return closeWrite(c.Conn) }

func (c *monitoredConn[K]) NetConn() net.Conn { return c.Conn }

func closeWrite(c net.Conn) error {
	if cw, ok := c.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return errNoCloseWrt
}

// Wrap returns a wrapper of c that calls Received whenever a Read
// returns data, so that all inbound traffic counts as a sign of life.
// Its CloseWrite calls c's CloseWrite if c has one; NetConn returns c.
// Unlike Monitor.TrackConn it only wraps: nothing is registered, and
// nothing needs undoing when c is closed.
//
// Wrap returns ErrNilConn, and no wrapper, if c is nil or holds a nil
// pointer (a typed nil, such as a nil *net.TCPConn), whose first Read
// would panic.
func (p *Pinger) Wrap(c net.Conn) (net.Conn, error) {
	if isNil(c) {
		return nil, ErrNilConn
	}
	return &pingerConn{Conn: c, p: p}, nil
}

type pingerConn struct {
	net.Conn
	p *Pinger
}

func (c *pingerConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.p.Received()
	}
	return n, err
}

func (c *pingerConn) CloseWrite() error { return closeWrite(c.Conn) }

func (c *pingerConn) NetConn() net.Conn { return c.Conn }
