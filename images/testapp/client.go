package main

// `testapp client --url URL --rate R [--timeout-ms T] [--max-in-flight N] [--duration-s D]`
// sends GET URL R times a second from inside the cluster's network (kubeproof runs it as a
// pod where the host cannot reach ClusterIPs, e.g. kind) and prints one JSON line per
// result on stdout, which kubeproof reads by following the pod's log through the API:
//
//	{"seq":1,"at":1764650000123.4,"ok":true,"status":200,"latencyMs":1.8,"pod":"web-7d9-abc"}
//	{"seq":2,"at":1764650000173.5,"ok":false,"latencyMs":1000.2,"error":"timeout"}
//
// `at` is the send time in epoch milliseconds from the node's clock (a kind node is a
// container: it shares the host kernel's clock with kubeproof). Each request opens its own
// connection (no keep-alive): kube-proxy balances per connection, so every request is
// balanced afresh. Bounded by construction: at most N requests in flight (a tick that finds
// N in flight is skipped and counted), each gives up after T ms, and the client stops by
// itself after D seconds, so a client pod left behind ends on its own. SIGTERM (the pod
// deleted) stops sending, waits for the requests in flight, prints the last line and exits 0.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

var podInBody = regexp.MustCompile(`pod=(\S+)`)

type clientResult struct {
	Seq       int64   `json:"seq"`
	At        float64 `json:"at"`
	Ok        bool    `json:"ok"`
	Status    int     `json:"status,omitempty"`
	LatencyMs float64 `json:"latencyMs"`
	Pod       string  `json:"pod,omitempty"`
	Error     string  `json:"error,omitempty"`
}

type clientEvent struct {
	Event    string  `json:"event"`
	At       float64 `json:"at"`
	URL      string  `json:"url,omitempty"`
	Rate     float64 `json:"rate,omitempty"`
	Sent     int64   `json:"sent"`
	Skipped  int64   `json:"skipped"`
	Reason   string  `json:"reason,omitempty"`
	Hostname string  `json:"hostname,omitempty"`
}

func epochMs(t time.Time) float64 { return float64(t.UnixMicro()) / 1000 }

// describeErr names a failed request the way kubeproof's in-process client does: a code, not a sentence.
func describeErr(err error, timeout time.Duration) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no answer within %d ms", timeout.Milliseconds())
	}
	var op *net.OpError
	if errors.As(err, &op) {
		var se *os.SyscallError
		if errors.As(op.Err, &se) {
			switch {
			case errors.Is(se.Err, syscall.ECONNREFUSED):
				return "ECONNREFUSED"
			case errors.Is(se.Err, syscall.ECONNRESET):
				return "ECONNRESET"
			case errors.Is(se.Err, syscall.EHOSTUNREACH):
				return "EHOSTUNREACH"
			case errors.Is(se.Err, syscall.ENETUNREACH):
				return "ENETUNREACH"
			}
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "ECONNRESET (closed without an answer)"
	}
	return err.Error()
}

func runClient(args []string) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	url := fs.String("url", "", "URL to GET")
	rate := fs.Float64("rate", 20, "requests per second")
	timeoutMs := fs.Int("timeout-ms", 1000, "give up on a request after this many ms")
	maxInFlight := fs.Int("max-in-flight", 0, "at most this many requests at once (default: rate × timeout)")
	durationS := fs.Int("duration-s", 600, "stop by itself after this many seconds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || !strings.HasPrefix(*url, "http://") {
		return errors.New("--url must be an http:// URL")
	}
	if *rate <= 0 || *rate > 1000 {
		return errors.New("--rate must be above 0 and at most 1000")
	}
	if *timeoutMs <= 0 || *timeoutMs > 60000 {
		return errors.New("--timeout-ms must be from 1 to 60000")
	}
	if *durationS <= 0 || *durationS > 24*3600 {
		return errors.New("--duration-s must be from 1 to 86400")
	}
	timeout := time.Duration(*timeoutMs) * time.Millisecond
	inFlightCap := *maxInFlight
	if inFlightCap <= 0 {
		inFlightCap = int(*rate*timeout.Seconds()) + 1
	}

	// One writer for stdout: lines never interleave.
	out := json.NewEncoder(os.Stdout)
	var mu sync.Mutex
	emit := func(v any) {
		mu.Lock()
		defer mu.Unlock()
		_ = out.Encode(v)
	}

	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			Proxy:             nil,
			DialContext:       (&net.Dialer{Timeout: timeout}).DialContext,
		},
	}
	host, _ := os.Hostname()
	emit(clientEvent{Event: "start", At: epochMs(time.Now()), URL: *url, Rate: *rate, Hostname: host})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	deadline := time.NewTimer(time.Duration(*durationS) * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()

	sem := make(chan struct{}, inFlightCap)
	var wg sync.WaitGroup
	var seq, skipped int64
	reason := ""
	for reason == "" {
		select {
		case <-ctx.Done():
			reason = "signal"
		case <-deadline.C:
			reason = "duration"
		case <-tick.C:
			select {
			case sem <- struct{}{}:
			default:
				skipped++
				continue
			}
			seq++
			wg.Add(1)
			go func(n int64) {
				defer wg.Done()
				defer func() { <-sem }()
				t0 := time.Now()
				r := clientResult{Seq: n, At: epochMs(t0)}
				resp, err := client.Get(*url)
				if err == nil {
					body, rerr := io.ReadAll(io.LimitReader(resp.Body, 4096))
					resp.Body.Close()
					r.Status = resp.StatusCode
					if rerr != nil {
						r.Error = describeErr(rerr, timeout)
					} else {
						r.Ok = resp.StatusCode >= 200 && resp.StatusCode < 300
						if m := podInBody.FindSubmatch(body); m != nil {
							r.Pod = string(m[1])
						}
					}
				} else {
					r.Error = describeErr(err, timeout)
				}
				r.LatencyMs = float64(time.Since(t0).Microseconds()) / 1000
				emit(r)
			}(seq)
		}
	}
	wg.Wait()
	emit(clientEvent{Event: "end", At: epochMs(time.Now()), Sent: seq, Skipped: skipped, Reason: reason})
	return nil
}
