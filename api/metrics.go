package api

import (
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"posid/internal/audit"
)

// metrics are the server's Prometheus collectors, on a registry of its own
// (no global state: two servers in one process do not collide).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	scanDuration *prometheus.HistogramVec
	scanQueue    prometheus.Gauge
	scanRunning  prometheus.Gauge
	scanRejected prometheus.Counter
	// scanClientLimited counts scans refused with 429 because their client
	// already had its share of decodes running or waiting.
	scanClientLimited prometheus.Counter
	observers         sync.Map // requestKey → requestObservers
}

// batchStats is an audit log that counts its group commits (audit.Batcher).
type batchStats interface{ Stats() audit.BatchStats }

func newMetrics(log audit.Log) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posid_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "posid_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		scanDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "posid_scan_duration_seconds", Help: "Image decode time by outcome.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 4, 8},
		}, []string{"outcome"}),
		scanQueue:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "posid_scan_queue_waiting", Help: "Scans waiting for a decode slot."}),
		scanRunning:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "posid_scan_running", Help: "Decodes running."}),
		scanRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "posid_scan_rejected_total", Help: "Scans refused with 503 because every decode slot was busy or the decode memory (--decode-memory) stayed taken."}),
		scanClientLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "posid_scan_client_limited_total",
			Help: "Scans refused with 429 because their client address or API key already had its share of decodes (--max-scans-per-client) running or waiting."}),
	}
	if b, ok := log.(batchStats); ok {
		m.reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "posid_audit_commits_total", Help: "Audit log transactions (group commits)."},
				func() float64 { return float64(b.Stats().Commits) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "posid_audit_entries_total", Help: "Audit rows written; divided by commits, the mean batch size."},
				func() float64 { return float64(b.Stats().Entries) }))
	}
	m.reg.MustRegister(m.requests, m.latency, m.scanDuration, m.scanQueue, m.scanRunning, m.scanRejected, m.scanClientLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records one finished request.
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	k := requestKey{method, route, status}
	o, ok := m.observers.Load(k)
	if !ok {
		// Methods, routes and statuses are few, so this map stays small.
		o, _ = m.observers.LoadOrStore(k, requestObservers{
			count:   m.requests.WithLabelValues(method, route, strconv.Itoa(status)),
			latency: m.latency.WithLabelValues(method, route),
		})
	}
	ro := o.(requestObservers)
	ro.count.Inc()
	ro.latency.Observe(d.Seconds())
}

// requestKey and requestObservers cache the labelled children of the
// request metrics, which are otherwise found by hashing the labels on
// every request.
type requestKey struct {
	method, route string
	status        int
}

type requestObservers struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}
