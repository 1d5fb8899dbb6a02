package main

import (
	"context"
	"os"

	_ "k8s.io/client-go/plugin/pkg/client/auth" // kubectl: client auth plugins
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
	kubemark "k8s.io/kubernetes/cmd/kubemark/app"
)

// The bodies below are copied from k8s.io/kubernetes/cmd/<name>/<name>.go.

func runKubeAPIServer() {
	os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
}

func runKubeControllerManager() {
	os.Exit(cli.Run(controllermanager.NewControllerManagerCommand()))
}

func runKubeScheduler() {
	os.Exit(cli.Run(scheduler.NewSchedulerCommand()))
}

func runKubeProxy() {
	os.Exit(cli.Run(proxy.NewProxyCommand()))
}

func runKubelet() {
	os.Exit(cli.Run(kubelet.NewKubeletCommand(context.Background())))
}

func runKubemark() {
	os.Exit(cli.Run(kubemark.NewHollowNodeCommand()))
}

func runKubectl() {
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) // nolint:errcheck
	command := kubectlcmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err)
	}
}
