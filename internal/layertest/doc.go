// Package layertest is what the tests of keepalivehttp, keepalivegrpc and
// keepalivews share: catch both ends of the TCP connections a library dials
// and accepts, partition them so that each end hears nothing from the other,
// and time each end's detection against the budget.
//
// A partition drops what each socket receives (keepalivetest.Vanish on
// both ends), rather than on one end only, because the libraries under test
// send on their own: a peer that is only deaf would still send HTTP/2 or
// WebSocket pings and keepalive probes, and the other end would keep hearing
// from it.
//
// It is Linux-only, like the black-holing it builds on.
package layertest
