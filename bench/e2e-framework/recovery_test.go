// The bench's sigs.k8s.io/e2e-framework peer: the pod-kill experiment written the way the
// framework is used (a feature with an Assess step, klient for the API, wait.For with the
// framework's conditions), compiled with `go test -c` and driven by bench/peers.mjs.
//
// Environment: KUBECONFIG, BENCH_NS (namespace of deployment "web", 3 replicas, app=web),
// BENCH_TRIALS, BENCH_TIMEOUT (Go duration), BENCH_OUT (JSON file written here), BENCH_MODE:
//   documented  DeploymentConditionMatch(Available=True) with wait.For's defaults (5 s interval),
//               as in the framework's README and examples;
//   status      ResourceScaled on status.readyReplicas == 3, polled every 100 ms;
//   pods        ResourceListMatchN: 3 pods Ready and not terminating, polled every 100 ms.
package bench

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"
	"sigs.k8s.io/e2e-framework/klient/wait"
	"sigs.k8s.io/e2e-framework/klient/wait/conditions"
	"sigs.k8s.io/e2e-framework/pkg/env"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
)

var testenv env.Environment

func TestMain(m *testing.M) {
	testenv = env.NewWithConfig(envconf.NewWithKubeConfig(os.Getenv("KUBECONFIG")))
	os.Exit(testenv.Run(m))
}

type trial struct {
	Trial    int     `json:"trial"`
	Start    float64 `json:"start"`    // epoch ms: the trial began (before listing the victims)
	KilledAt float64 `json:"killedAt"` // epoch ms: both deletes returned
	End      float64 `json:"end"`      // epoch ms: wait.For returned
	Passed   bool    `json:"passed"`
	Error    string  `json:"error,omitempty"`
}

func ms(t time.Time) float64 { return float64(t.UnixNano()) / 1e6 }

func podReady(o k8s.Object) bool {
	p := o.(*corev1.Pod)
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func TestPodKill(t *testing.T) {
	ns := os.Getenv("BENCH_NS")
	mode := os.Getenv("BENCH_MODE")
	trials, _ := strconv.Atoi(os.Getenv("BENCH_TRIALS"))
	timeout, err := time.ParseDuration(os.Getenv("BENCH_TIMEOUT"))
	if err != nil {
		t.Fatalf("BENCH_TIMEOUT: %v", err)
	}
	f := features.New("pod kill").Assess("kill 2 of 3 pods, wait until 3 are Ready", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
		r, err := resources.New(cfg.Client().RESTConfig())
		if err != nil {
			t.Fatal(err)
		}
		r = r.WithNamespace(ns)
		var out []trial
		for i := 1; i <= trials; i++ {
			tr := trial{Trial: i, Start: ms(time.Now())}
			var pods corev1.PodList
			if err := r.List(ctx, &pods, resources.WithLabelSelector("app=web")); err != nil {
				t.Fatal(err)
			}
			killed := 0
			for j := range pods.Items {
				if killed == 2 {
					break
				}
				p := &pods.Items[j]
				if p.DeletionTimestamp != nil {
					continue
				}
				if err := r.Delete(ctx, p); err != nil {
					t.Fatal(err)
				}
				killed++
			}
			tr.KilledAt = ms(time.Now())
			dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}}
			c := conditions.New(r)
			switch mode {
			case "documented":
				err = wait.For(c.DeploymentConditionMatch(dep, appsv1.DeploymentAvailable, corev1.ConditionTrue), wait.WithTimeout(timeout))
			case "status":
				err = wait.For(c.ResourceScaled(dep, func(o k8s.Object) int32 { return o.(*appsv1.Deployment).Status.ReadyReplicas }, 3), wait.WithTimeout(timeout), wait.WithInterval(100*time.Millisecond))
			case "pods":
				err = wait.For(c.ResourceListMatchN(&corev1.PodList{}, 3, podReady, resources.WithLabelSelector("app=web")), wait.WithTimeout(timeout), wait.WithInterval(100*time.Millisecond))
			default:
				t.Fatalf("BENCH_MODE %q", mode)
			}
			tr.End = ms(time.Now())
			tr.Passed = err == nil
			if err != nil {
				tr.Error = err.Error()
			}
			out = append(out, tr)
		}
		b, _ := json.Marshal(out)
		if err := os.WriteFile(os.Getenv("BENCH_OUT"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return ctx
	}).Feature()
	testenv.Test(t, f)
}
