//go:build tools

// Pins the Kubernetes control-plane commands Vapora's tests run against;
// `vapora provision --kubernetes` builds them into ~/.cache/vapora.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
