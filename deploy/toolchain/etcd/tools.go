//go:build tools

// Pins etcd 3.6 for the local Kubernetes control plane (Debian's 3.4 is too old).
package tools

import _ "go.etcd.io/etcd/server/v3"
