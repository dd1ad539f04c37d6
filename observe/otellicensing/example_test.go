package otellicensing_test

import (
	"context"
	"fmt"
	"log"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/observe/otellicensing"
	"github.com/licensing-go/licensing/store/memstore"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A ledger observed with OpenTelemetry. A host passes the providers it
// exports with (OTLP, say); here the SDK's in-memory exporter and a manual
// reader show what a partner's allocation produces.
func ExampleNew() {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(ctx)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)

	obs, err := otellicensing.New(otellicensing.Config{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := licensing.New(memstore.New(), &licensing.Config{Observer: obs})
	if err != nil {
		log.Fatal(err)
	}

	system := licensing.System()
	acme, _ := ledger.CreatePartner(ctx, system, licensing.NewPartner{Name: "Acme"})
	pam := licensing.PartnerManager(acme.ID, "pam")
	created, _ := ledger.CreateCompany(ctx, pam, licensing.NewCompany{Name: "Globex",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 5, Assign: true}})
	globex := created.Company.ID
	for _, id := range []string{"ana", "ben"} {
		_, _ = ledger.LearnerJoined(ctx, system, licensing.LearnerFact{Company: globex, Learner: id})
	}
	spans.Reset()
	_, err = ledger.Allocate(ctx, pam, licensing.Allocation{Company: globex, Learners: []string{"ana", "ben"}})
	if err != nil {
		log.Fatal(err)
	}

	for _, s := range spans.GetSpans() { // in the order they ended
		fmt.Println(s.Name)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "licensing.seats.allocated" {
			fmt.Println(m.Name, m.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
		}
	}
	// Output:
	// licensing.store.update
	// licensing.allocate
	// licensing.seats.allocated 2
}
