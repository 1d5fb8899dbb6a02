// bulk-create: the client-go side of `npm run bench -- services`. It creates the Services
// and EndpointSlices that the kit wrote as JSON lines (one Service and its slices a line,
// the kit's own syntheticService/syntheticEndpointSlices output), with the same
// bounded concurrency and the same order as the kit's createServiceSet (every Service,
// then every slice), and prints one JSON line of figures.
//
// client-go limits a client to 5 requests/s (burst 10) unless told otherwise
// (rest.DefaultQPS): at that rate 20,000 objects take over an hour, so -qps and -burst
// default to no limit (a negative QPS disables the token bucket), and the client's rate
// is set by the API server alone, as for the kit, which has no client-side limit.
//
// Built by the bench against the lab's own module graph (lab/k8s/go.mod: client-go
// v0.<minor>.<patch> of the lab's Kubernetes release), never part of the lab's binaries.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type item struct {
	Service corev1.Service              `json:"service"`
	Slices  []discoveryv1.EndpointSlice `json:"slices"`
}

type phase struct {
	Objects int     `json:"objects"`
	Seconds float64 `json:"seconds"`
}

type result struct {
	Services         phase   `json:"services"`
	Slices           phase   `json:"slices"`
	Objects          int     `json:"objects"`
	Seconds          float64 `json:"seconds"`
	ObjectsPerSecond float64 `json:"objectsPerSecond"`
	Conflicts        int64   `json:"conflicts"`
	Concurrency      int     `json:"concurrency"`
	QPS              float64 `json:"qps"`
	Burst            int     `json:"burst"`
	ContentType      string  `json:"contentType"`
	CPUSeconds       float64 `json:"cpuSeconds"`
	ClientGo         string  `json:"clientGo"`
}

// run calls op for 0..n-1 from `workers` goroutines; the first error stops it.
func run(n, workers int, op func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers && w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := op(i); err != nil {
					once.Do(func() { first = fmt.Errorf("item %d: %w", i, err) })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// clientGoVersion is the client-go module this binary was built with (its build info).
func clientGoVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/client-go" {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "admin kubeconfig of the cluster")
	objects := flag.String("objects", "", "JSON lines file: {\"service\": …, \"slices\": […]} per line")
	concurrency := flag.Int("concurrency", 32, "requests in flight")
	qps := flag.Float64("qps", -1, "client-side rate limit (client-go's default is 5; negative: none)")
	burst := flag.Int("burst", 1_000_000, "client-side burst")
	protobuf := flag.Bool("protobuf", false, "send protobuf instead of JSON (what Kubernetes' own components use)")
	flag.Parse()
	if *kubeconfig == "" || *objects == "" || *concurrency < 1 {
		fmt.Fprintln(os.Stderr, "usage: bulk-create -kubeconfig <file> -objects <file.jsonl> [-concurrency 32] [-qps -1] [-burst N] [-protobuf]")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bulk-create: kubeconfig %s: %v\n", *kubeconfig, err)
		os.Exit(2)
	}
	cfg.QPS = float32(*qps)
	cfg.Burst = *burst
	cfg.UserAgent = "kube-sli-bench-client-go"
	if *protobuf {
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bulk-create: client: %v\n", err)
		os.Exit(2)
	}

	f, err := os.Open(*objects)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bulk-create: %v\n", err)
		os.Exit(2)
	}
	var items []item
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var it item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			fmt.Fprintf(os.Stderr, "bulk-create: %s line %d: %v\n", *objects, len(items)+1, err)
			os.Exit(2)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "bulk-create: %s: %v\n", *objects, err)
		os.Exit(2)
	}
	_ = f.Close()

	ctx := context.Background()
	var conflicts atomic.Int64
	// 409 AlreadyExists counts as done, as in the kit
	done := func(err error) error {
		if apierrors.IsAlreadyExists(err) {
			conflicts.Add(1)
			return nil
		}
		return err
	}
	cpu0 := cpuSeconds()
	t0 := time.Now()
	if err := run(len(items), *concurrency, func(i int) error {
		s := &items[i].Service
		_, err := cs.CoreV1().Services(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		return done(err)
	}); err != nil {
		fmt.Fprintf(os.Stderr, "bulk-create: creating Services: %v\n", err)
		os.Exit(1)
	}
	t1 := time.Now()
	nSlices := 0
	for _, it := range items {
		nSlices += len(it.Slices)
	}
	if err := run(len(items), *concurrency, func(i int) error {
		for j := range items[i].Slices {
			sl := &items[i].Slices[j]
			if _, err := cs.DiscoveryV1().EndpointSlices(sl.Namespace).Create(ctx, sl, metav1.CreateOptions{}); done(err) != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		fmt.Fprintf(os.Stderr, "bulk-create: creating EndpointSlices: %v\n", err)
		os.Exit(1)
	}
	t2 := time.Now()
	seconds := t2.Sub(t0).Seconds()
	ct := "application/json"
	if *protobuf {
		ct = cfg.ContentType
	}
	r := result{
		Services:         phase{Objects: len(items), Seconds: t1.Sub(t0).Seconds()},
		Slices:           phase{Objects: nSlices, Seconds: t2.Sub(t1).Seconds()},
		Objects:          len(items) + nSlices,
		Seconds:          seconds,
		ObjectsPerSecond: float64(len(items)+nSlices) / seconds,
		Conflicts:        conflicts.Load(),
		Concurrency:      *concurrency,
		QPS:              *qps,
		Burst:            *burst,
		ContentType:      ct,
		CPUSeconds:       cpuSeconds() - cpu0,
		ClientGo:         clientGoVersion(),
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}
