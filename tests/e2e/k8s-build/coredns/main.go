// Command coredns is CoreDNS with only the plugins tests/e2e/addons/coredns.yaml
// uses. The upstream main imports every plugin (cloud DNS providers, etcd,
// dnstap, ...), most of which the e2e cluster never loads; this one imports
// the Corefile's plugins and keeps only their directives, in upstream's order
// (the order plugins run in does not depend on the Corefile).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The plugins of tests/e2e/addons/coredns.yaml's Corefile (one import above each).
var plugins = map[string]bool{
	"cache": true, "errors": true, "health": true, "kubernetes": true, "loadbalance": true, "ready": true,
}

func main() {
	kept := dnsserver.Directives[:0]
	for _, d := range dnsserver.Directives {
		if plugins[d] {
			kept = append(kept, d)
		}
	}
	dnsserver.Directives = kept
	coremain.Run()
}
