// testapp is the application kubeproof runs on real nodes: an HTTP server whose liveness,
// readiness and CPU use a scenario can drive from outside.
//
//	GET  /            name, pod and request count (text)
//	GET  /healthz     liveness: 200 while the process serves
//	GET  /readyz      readiness: 200 while the ready file exists, else 503
//	POST /ready/off   remove the ready file (readiness fails from the next probe)
//	POST /ready/on    create it again
//	GET  /burn?ms=N   spend N ms of one CPU (thread CPU time, at most 60000 ms of wall time), then answer (naming the pod)
//
// `testapp exit CODE [after DURATION]` is a task that ends (for Jobs on real kubelets).
// `testapp client --url URL --rate R …` sends requests and prints one JSON line per result
// (client.go): kubeproof's HTTP client inside the cluster's network.
//
// Readiness lives in a file (READY_FILE, default /tmp/ready) so it can also be switched
// without the network, through the exec subresource: `testapp ready off|on`, and probed by
// an exec probe: `testapp ready check`. The image has no shell; these subcommands are the
// whole toolbox. Every request is logged as one line on stdout.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

const maxBurn = 60 * time.Second

func readyFile() string {
	if f := os.Getenv("READY_FILE"); f != "" {
		return f
	}
	return "/tmp/ready"
}

func setReady(on bool) error {
	if on {
		return os.WriteFile(readyFile(), []byte("ready\n"), 0o644)
	}
	if err := os.Remove(readyFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func isReady() bool {
	_, err := os.Stat(readyFile())
	return err == nil
}

// burn spends d of CPU time on one OS thread: CPU time, not wall time, so a pod that shares a
// busy machine still uses what it was asked to (it answers later instead). The wall time is
// capped at maxBurn, so a starved pod does not spin forever.
func burn(d time.Duration) int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := time.Now()
	used := func() time.Duration { return time.Since(t0) } // where getrusage fails: wall time
	if start, ok := threadCPU(); ok {
		used = func() time.Duration { now, _ := threadCPU(); return now - start }
	}
	deadline := t0.Add(maxBurn)
	n := 0
	for used() < d && time.Now().Before(deadline) {
		for i := 0; i < 10000; i++ {
			n += i * i % 7
		}
	}
	return n
}

// threadCPU is the CPU time the calling OS thread has used (getrusage RUSAGE_THREAD).
func threadCPU() (time.Duration, bool) {
	const rusageThread = 1
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		rec := &recorder{ResponseWriter: w, status: 200}
		next.ServeHTTP(rec, r)
		log.Printf("%s %s %d %s from %s", r.Method, r.URL.RequestURI(), rec.status, time.Since(t0).Round(time.Microsecond), r.RemoteAddr)
	})
}

func serve(addr string) error {
	if os.Getenv("READY_AT_START") != "false" {
		if err := setReady(true); err != nil {
			return fmt.Errorf("creating %s: %w", readyFile(), err)
		}
	}
	var requests atomic.Int64
	host, _ := os.Hostname()
	// A pod's hostname is its name unless its spec sets one: manifests without POD_NAME still say who answered.
	pod := os.Getenv("POD_NAME")
	if pod == "" {
		pod = host
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "testapp %s pod=%s requests=%d\n", host, pod, requests.Add(1))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !isReady() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	toggle := func(on bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := setReady(on); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, "ready=%t\n", on)
		}
	}
	mux.HandleFunc("POST /ready/on", toggle(true))
	mux.HandleFunc("POST /ready/off", toggle(false))
	mux.HandleFunc("GET /burn", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		d := time.Duration(ms) * time.Millisecond
		if err != nil || d < 0 || d > maxBurn {
			http.Error(w, fmt.Sprintf("ms must be a whole number from 0 to %d", maxBurn.Milliseconds()), http.StatusBadRequest)
			return
		}
		t0 := time.Now()
		burn(d)
		fmt.Fprintf(w, "burned %s pod=%s\n", time.Since(t0).Round(time.Millisecond), pod)
	})

	srv := &http.Server{Addr: addr, Handler: logged(mux), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errs := make(chan error, 1)
	go func() { errs <- srv.ListenAndServe() }()
	log.Printf("testapp listening on %s (ready file %s, ready=%t)", addr, readyFile(), isReady())
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
		log.Printf("terminating: draining connections")
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetOutput(os.Stdout)
	args := os.Args[1:]
	if len(args) == 2 && args[0] == "ready" {
		var err error
		switch args[1] {
		case "on", "off":
			err = setReady(args[1] == "on")
		case "check":
			if !isReady() {
				err = errors.New("not ready")
			}
		default:
			err = fmt.Errorf("usage: testapp ready on|off|check")
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	// A task that finishes, for Jobs on real kubelets: "exit CODE [after DURATION]".
	if len(args) >= 2 && args[0] == "exit" {
		code, err := strconv.Atoi(args[1])
		if err == nil && len(args) == 4 && args[2] == "after" {
			var d time.Duration
			if d, err = time.ParseDuration(args[3]); err == nil {
				time.Sleep(d)
			}
		} else if len(args) != 2 {
			err = errors.New("usage: testapp exit CODE [after DURATION]")
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		log.Printf("exiting with %d", code)
		os.Exit(code)
	}
	// A client from inside the cluster's network: see client.go.
	if len(args) >= 1 && args[0] == "client" {
		if err := runClient(args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		return
	}
	if len(args) > 0 {
		fmt.Fprintln(os.Stderr, "usage: testapp            serve HTTP on :$PORT (default 8080)\n       testapp ready on|off|check\n       testapp exit CODE [after DURATION]\n       testapp client --url URL --rate R [--timeout-ms T] [--max-in-flight N] [--duration-s D]")
		os.Exit(2)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := serve(":" + port); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
