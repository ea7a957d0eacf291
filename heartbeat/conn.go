package heartbeat

import (
	"io"
	"net"
)

// Conn tracks c under key, like Track, and returns a wrapper of c that
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
// ==), Conn refreshes it and returns that wrapper: wrapping c again is
// not a replacement and closes nothing. Errors are those of Track.
func (m *Monitor[K]) Conn(key K, c net.Conn) (net.Conn, error) {
	if isNil(c) {
		return nil, ErrNilConn
	}
	w := &monitoredConn[K]{Conn: c, m: m}
	w, err := m.track(key, w, w)
	if err != nil {
		return nil, err
	}
	return w, nil
}

type monitoredConn[K comparable] struct {
	net.Conn
	m  *Monitor[K]
	sh *shard[K]
	e  *entry[K]
	mt *meta // e's
	i  int32
}

func (c *monitoredConn[K]) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	// Racing with the owner of the entry is fine: a stamp equal to the
	// clock means either that c is fresh or that the entry is no longer
	// c's, and then there is nothing to do either way.
	if n > 0 && c.mt.stamp.Load() != c.m.now.Load() {
		c.touch()
	}
	return n, err
}

func (c *monitoredConn[K]) touch() {
	sh := c.sh
	sh.mu.Lock()
	if c.e.conn == io.Closer(c) {
		sh.refresh(c.i, c.e, c.m.now.Load())
	}
	sh.mu.Unlock()
}

func (c *monitoredConn[K]) Close() error {
	sh, e := c.sh, c.e
	sh.mu.Lock()
	removed := e.conn == io.Closer(c)
	var key K
	if removed {
		key = e.key
		sh.remove(sh.slotOf(c.i), c.i, e)
	}
	sh.mu.Unlock()
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

// Conn returns a wrapper of c that calls Received whenever a Read
// returns data, so that all inbound traffic counts as a sign of life.
// Its CloseWrite calls c's CloseWrite if c has one; NetConn returns c.
func (p *Pinger) Conn(c net.Conn) net.Conn {
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
