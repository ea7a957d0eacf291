package keepalivegrpc_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/go-keepalive/keepalive/keepalivegrpc"
)

// A client that notices a vanished server within 30 s, and a server that
// notices a vanished client within 10 s and accepts that client's pings.
func ExampleClientWithin() {
	c, err := keepalivegrpc.ClientWithin(30 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	s, err := keepalivegrpc.ServerWithin(10 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("client: ping after %v without a frame, wait %v for the answer\n", c.Keepalive.Time, c.Keepalive.Timeout)
	fmt.Printf("server: ping after %v without a frame, wait %v for the answer\n", s.Keepalive.Time, s.Keepalive.Timeout)
	fmt.Printf("server permits a ping per %v, also without RPCs: %v\n", s.Policy.MinTime, s.Policy.PermitWithoutStream)
	fmt.Println("server accepts the client's pings:", s.Accepts(c) == nil)
	// Output:
	// client: ping after 15s without a frame, wait 15s for the answer
	// server: ping after 5s without a frame, wait 5s for the answer
	// server permits a ping per 10s, also without RPCs: true
	// server accepts the client's pings: true
}

// gRPC's default policy permits a ping per 5 minutes: a client that pings
// more often has its connections closed with too_many_pings.
func ExampleCheckPolicy() {
	c, err := keepalivegrpc.ClientWithin(time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(keepalivegrpc.CheckPolicy(c.Keepalive, keepalive.EnforcementPolicy{}))
	// Output:
	// keepalivegrpc: the server would close the client's connections with GOAWAY too_many_pings: the client pings 30s after the last frame during RPCs, the policy permits a ping per 5m0s (EnforcementPolicy.MinTime)
}

// A server and a client on loopback, each on its budget: gRPC keepalive and
// kernel keepalive on every connection, agreeing with each other.
func ExampleServer_ServerOptions() {
	ctx := context.Background()
	s, err := keepalivegrpc.ServerWithin(10 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	sopts, err := s.ServerOptions()
	if err != nil {
		log.Fatal(err)
	}
	ln, err := s.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer(sopts...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()

	c, err := keepalivegrpc.ClientWithin(30 * time.Second)
	if err != nil {
		log.Fatal(err)
	}
	copts, err := c.DialOptions()
	if err != nil {
		log.Fatal(err)
	}
	cc, err := grpc.NewClient("passthrough:///"+ln.Addr().String(), append(copts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		log.Fatal(err)
	}
	defer cc.Close()
	resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.GetStatus())
	// Output: SERVING
}
