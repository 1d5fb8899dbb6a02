package main

import (
	"fmt"
	"runtime"

	etcdversion "go.etcd.io/etcd/api/v3/version"
	"k8s.io/component-base/version"
)

func labVersion() string {
	return fmt.Sprintf("kube-lab kubernetes=%s etcd=%s go=%s %s/%s",
		version.Get().GitVersion, etcdversion.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
