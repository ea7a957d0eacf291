// Package heartbeat implements application-level liveness checks for
// long-lived connections, independent of the protocol spoken on them:
// a server-side Monitor that evicts connections that have gone silent,
// and a client-side Pinger that probes a silent server and declares it
// dead when it does not answer.
//
// # Heartbeats or kernel keepalive?
//
// TCP keepalive (see the parent package) is free of protocol changes and
// costs nothing in user space, but it only proves that the peer's TCP
// stack still acknowledges segments. It cannot see a peer application
// that is hung, deadlocked or stuck in a GC pause while its kernel
// happily acknowledges probes. Its probes are also answered hop by hop:
// a proxy or load balancer in the path answers them itself (or drops
// idle flows silently), so they say nothing about the far end. And its
// timing is per socket and often limited by system policy.
//
// Application heartbeats travel end to end through proxies, are answered
// by the peer's own code, and keep middleboxes from dropping idle flows.
// Use both: kernel keepalive to reap half-open sockets cheaply, and
// heartbeats where you need to know that the other program is alive.
//
// # Trade-offs
//
//   - Probe traffic: every idle connection costs a ping and an answer per
//     period. Only idle connections are probed (any inbound data counts as
//     a sign of life), and the Pinger jitters its first ping so that
//     thousands of clients that connected together do not ping in
//     lockstep.
//   - False positives: a transient outage longer than the timeout (a
//     network blip, a long GC pause, a slow client on a congested link)
//     kills a connection that would have recovered. Choose the timeout as
//     a multiple of the ping interval (e.g. 3 missed pings), not just
//     above it.
//   - Late but alive: a client whose heartbeat arrives just after the
//     timeout is disconnected although it was alive. MonitorConfig.Grace
//     softens this: the connection is first half-closed with CloseWrite,
//     so the peer sees EOF and can reconnect, while data it already sent
//     can still be read; it is fully closed only after the grace period.
//   - Reconnect storms: a client that reconnects before its old connection
//     timed out would otherwise leave a stale connection behind, and a
//     client in a reboot loop would pile them up. Tracking a key that is
//     already tracked with another connection evicts the old one at once
//     (Replaced).
//
// # Scale
//
// A Monitor uses no goroutine or timer per connection. Connections are
// spread over shards by key hash; each shard orders its connections by
// last activity in an intrusive list over a slab of entries, so a
// refresh is O(1) without allocation and the expiry check, run by one
// goroutine per Monitor twice per Tick, stops at the first connection that
// has not expired. Activity is stamped with a coarse clock advanced by
// that goroutine, which makes a refresh cheaper than reading the time,
// and lets a connection that is active many times per tick skip even the
// list update and the lock: such refreshes only read shared memory, so
// they scale with the cores doing them. The price is precision: evictions happen between IdleTimeout
// and IdleTimeout+Tick after the last activity.
package heartbeat
