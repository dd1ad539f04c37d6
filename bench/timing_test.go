package bench

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// BenchmarkTiming measures whether a read tells, by its time, another
// tenant's object from one that does not exist: each read command, as a
// partner manager, names an object of another partner (foreign) and an id
// of the same shape that names nothing (missing), interleaved. Both answer
// ErrNotFound with the same bytes; foreign/missing is the ratio of their
// times, 1 when the time says nothing.
func BenchmarkTiming(b *testing.B) {
	b.Run("memstore", func(b *testing.B) { benchTiming(b, memstore.New()) })
	b.Run("SQLite", func(b *testing.B) {
		benchTiming(b, newSQLStore(b, openSQLite(b, filepath.Join(b.TempDir(), "timing.db")), sqlstore.SQLite))
	})
}

func benchTiming(b *testing.B, st licensing.Store) {
	mine := newLedgerWorld(b, st)
	theirs := newLedgerWorldOn(b, mine.l)
	o := theirs.order(licensing.StatusAssigned, 10, utcNow())
	theirs.putOrders(b, o)
	theirs.putLearners(b, []string{"ann"}, utcNow())
	l, pm := mine.l, mine.pm
	absent := func(id string) string { return id[:len(id)-4] + "zzzz" }
	reads := []struct {
		name string
		read func(id string) error
		id   string
	}{
		{"Company", func(id string) error { _, err := l.Company(ctx, pm, id); return err }, theirs.company},
		{"CompanySummary", func(id string) error { _, err := l.CompanySummary(ctx, pm, id); return err }, theirs.company},
		{"Partner", func(id string) error { _, err := l.Partner(ctx, pm, id); return err }, theirs.partner},
		{"PartnerSummary", func(id string) error { _, err := l.PartnerSummary(ctx, pm, id); return err }, theirs.partner},
		{"Order", func(id string) error { _, err := l.Order(ctx, pm, id); return err }, o.ID},
		{"Orders", func(id string) error {
			_, err := l.Orders(ctx, pm, licensing.OrderFilter{Company: id})
			return err
		}, theirs.company},
		{"Licences", func(id string) error {
			_, err := l.Licences(ctx, pm, licensing.LicenceFilter{Company: id})
			return err
		}, theirs.company},
		{"Learner", func(id string) error {
			_, err := l.Learner(ctx, pm, licensing.LearnerRef{Company: id, Learner: "ann"})
			return err
		}, theirs.company},
		{"Learners", func(id string) error {
			_, err := l.Learners(ctx, pm, licensing.LearnerFilter{Company: id})
			return err
		}, theirs.company},
		{"Entitlement", func(id string) error {
			_, err := l.Entitlement(ctx, pm, licensing.EntitlementCheck{Company: id, Learner: "ann"})
			return err
		}, theirs.company},
		{"Events", func(id string) error {
			_, err := l.Events(ctx, pm, licensing.EventFilter{Company: id})
			return err
		}, theirs.company},
	}
	for _, r := range reads {
		b.Run(r.name, func(b *testing.B) {
			missing := absent(r.id)
			check := func(id string) {
				err := r.read(id)
				if licensing.ErrorCode(err) != licensing.CodeNotFound {
					b.Fatalf("%s(%s): %v", r.name, id, err)
				}
			}
			// The two answers are the same, the id aside.
			fe, me := r.read(r.id), r.read(missing)
			if strings.ReplaceAll(me.Error(), missing, r.id) != fe.Error() {
				b.Fatalf("foreign %q, missing %q", fe, me)
			}
			f, m := measurePair(b,
				side{do: func(n int) {
					for range n {
						check(r.id)
					}
				}},
				side{do: func(n int) {
					for range n {
						check(missing)
					}
				}})
			b.ReportMetric(f.nsPerOp(), "ns/op")
			b.ReportMetric(m.nsPerOp(), "missing-ns/op")
			b.ReportMetric(f.nsPerOp()/m.nsPerOp(), "foreign/missing")
		})
	}
}

// newLedgerWorldOn creates a world on the same ledger as another: a second
// tenant beside the first.
func newLedgerWorldOn(b testing.TB, l *licensing.Ledger) *ledgerWorld {
	b.Helper()
	w := newLedgerWorld(b, l.Store())
	w.l = l
	return w
}
