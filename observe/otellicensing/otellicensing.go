// Package otellicensing observes a licensing.Ledger with OpenTelemetry: a
// span per command and per store transaction, and the ledger's metrics.
// It is the OpenTelemetry adapter of licensing.Observer, in a package of
// its own so that the root package keeps to the standard library.
//
//	obs, err := otellicensing.New(otellicensing.Config{}) // the global providers
//	ledger, err := licensing.New(store, &licensing.Config{Observer: obs})
//
// # Spans
//
// Each command of the Ledger (its listings, Sweep and Deliver included) is
// a span named "licensing." and the command's name ("licensing.allocate",
// "licensing.orders", "licensing.sweep"), a child of the span in the
// command's context (a host's HTTP request, say). Each store transaction the
// command runs is a child span, "licensing.store.update" or
// "licensing.store.view"; the context handed to the Store is that span's,
// so a traced database driver nests beneath it.
//
// A command span has these attributes, all tenant-level: never a learner's
// id, a person's name or address, nor a message's text.
//
//	licensing.command        the command's name: "allocate"
//	licensing.actor.kind     "system", "partner" or "company"
//	licensing.actor.partner  the partner of a partner manager
//	licensing.actor.company  the company of a company manager
//	licensing.partner        the partner that owns the tenant acted on
//	licensing.company        the company acted on (in manage mode, the one acted for)
//	licensing.tier           the tier of the orders or licences changed
//	licensing.outcome        "ok", or the error's code: "insufficient_licences"
//	licensing.replayed       true when an idempotency key replayed a result
//	licensing.allocated      the licences the command allocated, if any
//
// A command that returns an error, a refusal included, ends with the Error
// status: its description is the error's code ("not_found"), or for an
// internal failure (the store's) the error's text; error.type is the code.
// A transaction span has licensing.tx.runs, the runs of its closure (more
// than one after a serialization failure), and the Error status when the
// transaction did not commit. A Deliver span has an event
// "licensing.notification" per recorded attempt (licensing.notification,
// licensing.notification.kind, licensing.delivery.state, licensing.attempt);
// a Sweep span has licensing.sweep.expired, licensing.sweep.reminders,
// licensing.sweep.forgotten and licensing.sweep.lag (seconds).
//
// # Metrics
//
//	licensing.command.duration        histogram, s: by licensing.command and licensing.outcome
//	licensing.seats.allocated         counter: licences allocated, by licensing.tier
//	licensing.notifications.delivered counter: by licensing.notification.kind
//	licensing.notifications.retried   counter: refused attempts to be tried again, by kind
//	licensing.notifications.parked    counter: notifications parked, by kind
//	licensing.sweep.lag               histogram, s: how late each sweep that recorded an
//	                                  expiry recorded the most overdue one
//
// Metric attributes are few-valued on purpose: no tenant ids, which would
// make a series per company.
package otellicensing

import (
	"context"

	"github.com/licensing-go/licensing"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/licensing-go/licensing/observe/otellicensing"

// Config configures New. The zero Config uses the global providers.
type Config struct {
	// TracerProvider makes the spans. Nil: otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider makes the metrics. Nil: otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
}

// The attribute keys of the spans and metrics.
const (
	keyCommand      = attribute.Key("licensing.command")
	keyActorKind    = attribute.Key("licensing.actor.kind")
	keyActorPartner = attribute.Key("licensing.actor.partner")
	keyActorCompany = attribute.Key("licensing.actor.company")
	keyPartner      = attribute.Key("licensing.partner")
	keyCompany      = attribute.Key("licensing.company")
	keyTier         = attribute.Key("licensing.tier")
	keyOutcome      = attribute.Key("licensing.outcome")
	keyReplayed     = attribute.Key("licensing.replayed")
	keyAllocated    = attribute.Key("licensing.allocated")
	keyErrorType    = attribute.Key("error.type")
	keyRuns         = attribute.Key("licensing.tx.runs")
	keyNotification = attribute.Key("licensing.notification")
	keyKind         = attribute.Key("licensing.notification.kind")
	keyState        = attribute.Key("licensing.delivery.state")
	keyAttempt      = attribute.Key("licensing.attempt")
)

// Bucket boundaries, in seconds: commands take from tens of microseconds
// (memstore) to seconds (a bulk allocation on a busy database); a sweep is
// late by seconds (a sweep every few seconds) to days (one that stopped).
var (
	durationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	lagBuckets      = []float64{1, 10, 60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400, 259200, 604800}
)

type observer struct {
	tracer                     trace.Tracer
	duration, lag              metric.Float64Histogram
	allocated                  metric.Int64Counter
	delivered, retried, parked metric.Int64Counter
}

// New returns an Observer that traces and measures a Ledger: set it as
// licensing.Config.Observer. It returns an error if the MeterProvider
// refuses an instrument.
func New(cfg Config) (*licensing.Observer, error) {
	tp, mp := cfg.TracerProvider, cfg.MeterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName)
	o := &observer{tracer: tp.Tracer(ScopeName)}
	var err error
	if o.duration, err = meter.Float64Histogram("licensing.command.duration", metric.WithUnit("s"),
		metric.WithDescription("How long the ledger's commands take, by command and outcome."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, err
	}
	if o.lag, err = meter.Float64Histogram("licensing.sweep.lag", metric.WithUnit("s"),
		metric.WithDescription("How late a sweep recorded the most overdue expiry it recorded."),
		metric.WithExplicitBucketBoundaries(lagBuckets...)); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		to        *metric.Int64Counter
		name, sum string
		unit      string
	}{
		{&o.allocated, "licensing.seats.allocated", "Licences allocated to learners.", "{seat}"},
		{&o.delivered, "licensing.notifications.delivered", "Notifications the Notifier accepted.", "{notification}"},
		{&o.retried, "licensing.notifications.retried", "Delivery attempts refused, to be tried again.", "{notification}"},
		{&o.parked, "licensing.notifications.parked", "Notifications parked after their last refused attempt.", "{notification}"},
	} {
		if *c.to, err = meter.Int64Counter(c.name, metric.WithUnit(c.unit), metric.WithDescription(c.sum)); err != nil {
			return nil, err
		}
	}
	return &licensing.Observer{
		CommandStart: o.commandStart,
		CommandEnd:   o.commandEnd,
		TxStart:      o.txStart,
		TxEnd:        o.txEnd,
		Delivery:     o.delivery,
		Sweep:        o.sweep,
	}, nil
}

func (o *observer) commandStart(ctx context.Context, c licensing.CommandInfo) context.Context {
	attrs := make([]attribute.KeyValue, 0, 3)
	attrs = append(attrs, keyCommand.String(c.Name), keyActorKind.String(string(c.Kind)))
	if c.Partner != "" {
		attrs = append(attrs, keyActorPartner.String(c.Partner))
	}
	if c.Company != "" {
		attrs = append(attrs, keyActorCompany.String(c.Company))
	}
	ctx, _ = o.tracer.Start(ctx, "licensing."+c.Name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attrs...))
	return ctx
}

func (o *observer) commandEnd(ctx context.Context, c licensing.CommandInfo, r licensing.CommandOutcome) {
	outcome := r.Code
	if outcome == "" {
		outcome = "ok"
	}
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 6)
		attrs = append(attrs, keyOutcome.String(outcome))
		if r.Partner != "" {
			attrs = append(attrs, keyPartner.String(r.Partner))
		}
		if r.Company != "" {
			attrs = append(attrs, keyCompany.String(r.Company))
		}
		if r.Tier != "" {
			attrs = append(attrs, keyTier.String(r.Tier))
		}
		if r.Replayed {
			attrs = append(attrs, keyReplayed.Bool(true))
		}
		if r.Allocated > 0 {
			attrs = append(attrs, keyAllocated.Int(r.Allocated))
		}
		span.SetAttributes(attrs...)
		setError(span, r.Err)
	}
	span.End()
	o.duration.Record(ctx, r.Duration.Seconds(), metric.WithAttributes(keyCommand.String(c.Name), keyOutcome.String(outcome)))
	if r.Allocated > 0 {
		o.allocated.Add(ctx, int64(r.Allocated), metric.WithAttributes(keyTier.String(r.Tier)))
	}
}

// setError gives span the Error status if err is not nil: described by its
// code, which says what was refused without the message (that may quote a
// learner's id), or for an internal failure by its text.
func setError(span trace.Span, err error) {
	if err == nil {
		return
	}
	code := licensing.ErrorCode(err)
	desc := code
	if code == licensing.CodeInternal {
		desc = err.Error()
	}
	span.SetAttributes(keyErrorType.String(code))
	span.SetStatus(codes.Error, desc)
}

func (o *observer) txStart(ctx context.Context, t licensing.TxInfo) context.Context {
	name := "licensing.store.view"
	if t.Write {
		name = "licensing.store.update"
	}
	ctx, _ = o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal))
	return ctx
}

func (o *observer) txEnd(ctx context.Context, _ licensing.TxInfo, r licensing.TxOutcome) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		span.SetAttributes(keyRuns.Int(r.Runs))
		setError(span, r.Err)
	}
	span.End()
}

func (o *observer) delivery(ctx context.Context, d licensing.DeliveryOutcome) {
	kind := metric.WithAttributes(keyKind.String(string(d.Kind)))
	switch d.State {
	case licensing.DeliveryDelivered:
		o.delivered.Add(ctx, 1, kind)
	case licensing.DeliveryPending:
		o.retried.Add(ctx, 1, kind)
	case licensing.DeliveryParked:
		o.parked.Add(ctx, 1, kind)
	}
	trace.SpanFromContext(ctx).AddEvent("licensing.notification", trace.WithAttributes(
		keyNotification.String(d.Notification), keyKind.String(string(d.Kind)),
		keyState.String(string(d.State)), keyAttempt.Int(d.Attempt)))
}

func (o *observer) sweep(ctx context.Context, s licensing.SweepOutcome) {
	trace.SpanFromContext(ctx).SetAttributes(
		attribute.Int("licensing.sweep.expired", s.Result.Expired),
		attribute.Int("licensing.sweep.reminders", s.Result.Reminders),
		attribute.Int("licensing.sweep.forgotten", s.Result.Forgotten),
		attribute.Float64("licensing.sweep.lag", s.Lag.Seconds()))
	if s.Result.Expired > 0 {
		o.lag.Record(ctx, s.Lag.Seconds())
	}
}
