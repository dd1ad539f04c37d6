package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// TestEventNumbering appends several events per transaction, under each
// locking. On SQLite the numbers run on from one transaction to the next
// with no gap, a transaction rolled back gives its numbers back, and the
// counter row ends at the last number. On PostgreSQL they come from a
// sequence: they increase, and a rolled-back transaction's numbers are
// gone for good (a gap), and its events never listed.
func TestEventNumbering(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		for _, lk := range []sqlstore.Locking{sqlstore.Snapshot, sqlstore.Serializable} {
			if d.name == "SQLite" && lk == sqlstore.Serializable {
				continue // no effect on SQLite
			}
			t.Run(d.name+"/"+lk.String(), func(t *testing.T) {
				s := d.open(t, &sqlstore.Config{Locking: lk})
				appendN := func(n int, fail bool) []int64 {
					t.Helper()
					var seqs []int64
					err := s.Update(ctx, func(tx licensing.Tx) error {
						for i := range n {
							e := licensing.Event{At: time.Now(), Type: licensing.EventLicenceAllocated,
								Company: "c1", Partner: "p1", Count: i}
							if err := tx.AppendEvent(&e); err != nil {
								return err
							}
							seqs = append(seqs, e.Seq)
						}
						if fail {
							return errors.New("undo")
						}
						return nil
					})
					if (err != nil) != fail {
						t.Fatalf("Update: %v, want failure %v", err, fail)
					}
					return seqs
				}
				var got [][]int64
				got = append(got, appendN(3, false), appendN(1, false), appendN(2, true), appendN(2, false))
				want := [][]int64{{1, 2, 3}, {4}, {5, 6}, {5, 6}}
				wantStored := []int64{1, 2, 3, 4, 5, 6}
				if d.name == "Postgres" {
					want[3] = []int64{7, 8}
					wantStored = []int64{1, 2, 3, 4, 7, 8}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("numbers handed out (-want +got):\n%s", diff)
				}
				var stored []int64
				if err := s.View(ctx, func(tx licensing.Tx) error {
					evs, err := tx.Events(licensing.EventQuery{})
					for _, e := range evs {
						stored = append(stored, e.Seq)
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(wantStored, stored); diff != "" {
					t.Errorf("stored events (-want +got):\n%s", diff)
				}
				if d.name == "Postgres" {
					return
				}
				var counter int64
				if err := s.DB().QueryRowContext(ctx, "SELECT seq FROM event_seq WHERE id = 1").Scan(&counter); err != nil {
					t.Fatal(err)
				}
				if counter != 6 {
					t.Errorf("event_seq = %d, want 6", counter)
				}
			})
		}
	}
}

// TestPutOrderChanges stores an order, then changes it column by column
// (those no index holds, which SQLite writes with a narrow update, and the
// indexed ones, which take the upsert, to and from NULL): each put reads
// back as put, and a change of company is refused and changes nothing.
func TestPutOrderChanges(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t, nil)
			p, c, o, _, _, _, _ := records()
			if err := s.Update(ctx, func(tx licensing.Tx) error {
				return errors.Join(tx.PutPartner(p), tx.PutCompany(c))
			}); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			steps := []struct {
				name   string
				change func(o *licensing.Order)
			}{
				{"New", func(o *licensing.Order) {}},
				{"Allocated", func(o *licensing.Order) { o.Allocated = 7 }},
				{"Reminded", func(o *licensing.Order) { o.Reminded = append(o.Reminded, 1) }},
				{"Unindexed", func(o *licensing.Order) {
					o.Quantity, o.Reason, o.ClosedAt, o.ClosedBy = 9, "why", at, licensing.System()
				}},
				{"PurchaseOrderCleared", func(o *licensing.Order) { o.PurchaseOrder = "" }},
				{"PurchaseOrderSet", func(o *licensing.Order) { o.PurchaseOrder = "PO-2" }},
				{"ExpiryToZero", func(o *licensing.Order) { o.ExpiresAt = time.Time{} }},
				{"ExpirySet", func(o *licensing.Order) { o.ExpiresAt = at.AddDate(1, 0, 0) }},
				{"Status", func(o *licensing.Order) { o.Status = licensing.StatusExpired }},
				{"AllocatedAfterStatus", func(o *licensing.Order) { o.Allocated = 0 }},
			}
			cur := o
			for _, st := range steps {
				st.change(&cur)
				if err := s.Update(ctx, func(tx licensing.Tx) error { return tx.PutOrder(cur) }); err != nil {
					t.Fatalf("%s: PutOrder: %v", st.name, err)
				}
				checkOrder(t, s, st.name, cur)
			}
			moved := cur
			moved.Company, moved.Allocated = "c2", 1
			if err := s.Update(ctx, func(tx licensing.Tx) error { return tx.PutOrder(moved) }); err == nil {
				t.Errorf("PutOrder with another company succeeded")
			}
			checkOrder(t, s, "CompanyChange", cur)
		})
	}
}

func checkOrder(t *testing.T, s *sqlstore.Store, step string, want licensing.Order) {
	t.Helper()
	var got licensing.Order
	if err := s.View(context.Background(), func(tx licensing.Tx) (err error) {
		got, err = tx.Order(want.ID)
		return err
	}); err != nil {
		t.Fatalf("%s: Order: %v", step, err)
	}
	for _, at := range []*time.Time{&want.RequestedAt, &want.AssignedAt, &want.ExpiresAt, &want.ClosedAt} {
		*at = utc(*at)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: order read back (-want +got):\n%s", step, diff)
	}
}
