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
// If key is already tracked with a wrapper of the same c (compared with
// ==), TrackConn refreshes it and returns that wrapper: wrapping c again is
// not a replacement and closes nothing. Errors are those of Track.
func (m *Monitor[K]) TrackConn(key K, c net.Conn) (net.Conn, error) {
	if isNil(c) {
		return nil, ErrNilConn
	}
	w := &monitoredConn[K]{Conn: c, m: m}
	tracked, err := m.track(key, w, &w.pos, sameWrapped[K])
	if err != nil {
		return nil, err
	}
	return tracked.(*monitoredConn[K]), nil
}

// sameWrapped reports whether old is a wrapper of the same connection as
// the wrapper c.
func sameWrapped[K comparable](old, c io.Closer) bool {
	ow, ok := old.(*monitoredConn[K])
	return ok && same(ow.Conn, c.(*monitoredConn[K]).Conn)
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
func (p *Pinger) Wrap(c net.Conn) net.Conn {
	return &pingerConn{Conn: c, p: p}
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
