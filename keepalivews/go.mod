module github.com/go-keepalive/keepalive/keepalivews

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	github.com/go-keepalive/keepalive v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/go-keepalive/keepalive => ../
