//go:build !js

package keepalivews

import (
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// DialOptions returns a copy of base (empty options if base is nil) whose
// HTTPClient dials every connection with TCP: its Transport is
// [keepalivehttp.Budget.Transport] of base's (of http.DefaultTransport if
// base has no client or its client no Transport). A client whose Transport
// is not an *http.Transport is an error: there is no telling how it dials.
func (b Budget) DialOptions(base *websocket.DialOptions) (*websocket.DialOptions, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	var o websocket.DialOptions
	if base != nil {
		o = *base
	}
	var client http.Client
	if o.HTTPClient != nil {
		client = *o.HTTPClient
	}
	var tr *http.Transport
	switch t := client.Transport.(type) {
	case nil:
	case *http.Transport:
		tr = t
	default:
		return nil, fmt.Errorf("keepalivews: the HTTPClient's Transport is a %T, not an *http.Transport: cannot dial with kernel keepalive through it", t)
	}
	tr, err := b.http().Transport(tr)
	if err != nil {
		return nil, err
	}
	client.Transport = tr
	o.HTTPClient = &client
	return &o, nil
}
