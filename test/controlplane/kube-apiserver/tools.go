//go:build tools

// Package tools pins the Kubernetes main packages built from this module so `go mod tidy` keeps their
// dependencies: kube-apiserver for the control plane, and the node tier's kubelet, kube-controller-manager and
// kube-scheduler and kube-proxy (one module, so all four share one dependency graph and one version).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
