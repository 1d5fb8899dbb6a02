// Command kube-lab is a multi-call binary bundling the upstream Kubernetes
// control-plane components, kube-proxy, kubectl and an embedded etcd, all
// built from one pinned Kubernetes release (see K8S_VERSION / go.mod).
//
// Usage:
//
//	kube-lab <command> [upstream flags...]
//	<command> [upstream flags...]      (argv[0] is a symlink named <command>)
//
// Each command is the upstream main() body, unchanged: same flags, same
// cobra/component-base wiring (cli.Run), so `kube-lab kube-apiserver --help`
// prints exactly what the upstream kube-apiserver binary prints.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	_ "time/tzdata" // kube-apiserver / kube-controller-manager: CronJob time zones

	_ "k8s.io/component-base/logs/json/register"          // JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric registration
)

// commands maps a command name to its upstream main. Each func receives the
// rewritten os.Args (os.Args[0] == command name) and never returns.
var commands = map[string]func(){
	"etcd":                    runEtcd,
	"kube-apiserver":          runKubeAPIServer,
	"kube-controller-manager": runKubeControllerManager,
	"kube-scheduler":          runKubeScheduler,
	"kube-proxy":              runKubeProxy,
	"kubectl":                 runKubectl,
	"kubelet":                 runKubelet,
	"kubemark":                runKubemark,
}

func main() {
	name := filepath.Base(os.Args[0])
	if _, ok := commands[name]; !ok {
		if len(os.Args) < 2 {
			usage(os.Stderr)
			os.Exit(2)
		}
		name = os.Args[1]
		switch name {
		case "-h", "--help", "help":
			usage(os.Stdout)
			os.Exit(0)
		case "--version", "version":
			fmt.Println(labVersion())
			os.Exit(0)
		}
		if _, ok := commands[name]; !ok {
			fmt.Fprintf(os.Stderr, "kube-lab: unknown command %q\n\n", name)
			usage(os.Stderr)
			os.Exit(2)
		}
		// Present the component with the argv it would see as a standalone
		// binary: cobra/flag parse os.Args[1:], kubectl inspects os.Args for
		// plugins and -v.
		os.Args = append([]string{name}, os.Args[2:]...)
	}
	commands[name]()
	os.Exit(0)
}

func usage(w *os.File) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "%s\n\nUsage: kube-lab <command> [flags]   (or symlink <command> -> kube-lab)\n\nCommands:\n  %s\n",
		labVersion(), strings.Join(names, "\n  "))
}
