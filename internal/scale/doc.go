// Package scale holds the scale test: keepalive and heartbeats across
// 10,000 real loopback connections, a tenth of whose peers vanish.
package scale
