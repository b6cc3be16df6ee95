// Command coredns is the node tier's cluster DNS: CoreDNS with only the plugins a cluster's DNS Service needs
// (Service and pod names from the kubernetes plugin, health and readiness, a cache, errors logged), so it builds
// without the cloud providers' SDKs of the full distribution. It has no forward plugin: a name outside the
// cluster domain is answered from here, never by a query leaving the machine.
package main

import (
	// Registers the dns server type the plugins attach to.
	_ "github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
