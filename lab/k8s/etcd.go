package main

import (
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/server/v3/etcdmain"
)

// runEtcd runs an etcd server in-process. etcdmain is upstream etcd's own
// main (same flags: --name, --data-dir, --listen-client-urls,
// --advertise-client-urls, --listen-peer-urls, --initial-advertise-peer-urls,
// --initial-cluster, --unsafe-no-fsync, ...); it parses them into an
// embed.Config and serves with embed.StartEtcd. The etcd version is the
// go.etcd.io/etcd/server/v3 that the pinned Kubernetes release depends on.
func runEtcd() {
	// k8s.io/apiserver (linked into this binary for kube-apiserver) imports
	// the old github.com/grpc-ecosystem/go-grpc-prometheus, whose init()
	// registers grpc_server_* collectors in the default Prometheus registry.
	// etcd registers its own collectors under the same names; drop the
	// unused ones so etcd's /metrics matches a standalone etcd binary.
	for _, name := range []string{
		"grpc_server_started_total",
		"grpc_server_handled_total",
		"grpc_server_msg_received_total",
		"grpc_server_msg_sent_total",
	} {
		prometheus.Unregister(descOnly{prometheus.NewDesc(name, "", nil, nil)})
	}
	etcdmain.Main(os.Args)
}

// descOnly is a collector that only describes one metric; the registry
// unregisters by descriptor identity (fully-qualified name + const labels).
type descOnly struct{ d *prometheus.Desc }

func (c descOnly) Describe(ch chan<- *prometheus.Desc) { ch <- c.d }
func (c descOnly) Collect(chan<- prometheus.Metric)    {}
