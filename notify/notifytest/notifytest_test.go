package notifytest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/notifytest"
)

func note(i int) licensing.Notification {
	return licensing.Notification{ID: fmt.Sprintf("ntf_%03d", i), Kind: licensing.NotifyAssigned, To: []string{"a@example.com"}}
}

// deliver hands n notifications to r and returns which were refused.
func deliver(t *testing.T, r *notifytest.Recorder, from, n int) []bool {
	t.Helper()
	refused := make([]bool, n)
	for i := range n {
		err := r.Deliver(context.Background(), note(from+i))
		if err != nil && !errors.Is(err, notifytest.ErrRefused) {
			t.Fatalf("Deliver: %v, want nil or ErrRefused", err)
		}
		refused[i] = err != nil
	}
	return refused
}

func TestRecorder(t *testing.T) {
	t.Run("Records", func(t *testing.T) {
		r := notifytest.New()
		deliver(t, r, 0, 2)
		deliver(t, r, 0, 1)
		got := r.Delivered()
		want := []licensing.Notification{note(0), note(1), note(0)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Delivered (-want +got):\n%s", diff)
		}
		if got := r.Count("ntf_000"); got != 2 {
			t.Errorf("Count(ntf_000) = %d, want 2", got)
		}
		got[0].To[0] = "changed"
		if r.Delivered()[0].To[0] != "a@example.com" {
			t.Error("Delivered shares its slices with the recorder")
		}
	})
	t.Run("FailNext", func(t *testing.T) {
		r := notifytest.New()
		r.FailNext(2)
		got := deliver(t, r, 0, 4)
		if diff := cmp.Diff([]bool{true, true, false, false}, got); diff != "" {
			t.Errorf("refused (-want +got):\n%s", diff)
		}
		if r.Attempts() != 4 || r.Failures() != 2 || len(r.Delivered()) != 2 {
			t.Errorf("attempts %d, failures %d, delivered %d; want 4, 2, 2", r.Attempts(), r.Failures(), len(r.Delivered()))
		}
	})
	t.Run("FailAlways", func(t *testing.T) {
		r := notifytest.New()
		r.FailAlways(true)
		if diff := cmp.Diff([]bool{true, true, true}, deliver(t, r, 0, 3)); diff != "" {
			t.Errorf("refused (-want +got):\n%s", diff)
		}
		r.FailAlways(false)
		if diff := cmp.Diff([]bool{false}, deliver(t, r, 3, 1)); diff != "" {
			t.Errorf("refused after FailAlways(false) (-want +got):\n%s", diff)
		}
	})
	t.Run("FailRandomly", func(t *testing.T) {
		r1, r2 := notifytest.New(), notifytest.New()
		r1.FailRandomly(0.3, 7)
		r2.FailRandomly(0.3, 7)
		a, b := deliver(t, r1, 0, 1000), deliver(t, r2, 0, 1000)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("same seed, different refusals (-r1 +r2):\n%s", diff)
		}
		// 1000 draws at p = 0.3: 300 expected, standard deviation 14.5.
		if f := r1.Failures(); f < 200 || f > 400 {
			t.Errorf("%d of 1000 refused at p = 0.3", f)
		}
	})
	t.Run("DoneContext", func(t *testing.T) {
		r := notifytest.New()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := r.Deliver(ctx, note(0)); !errors.Is(err, context.Canceled) {
			t.Errorf("Deliver with a done context: %v, want context.Canceled", err)
		}
		if len(r.Delivered()) != 0 {
			t.Error("a refused notification was recorded")
		}
	})
	t.Run("Reset", func(t *testing.T) {
		r := notifytest.New()
		r.FailAlways(true)
		deliver(t, r, 0, 1)
		r.Reset()
		deliver(t, r, 0, 1)
		if r.Attempts() != 1 || r.Failures() != 0 || len(r.Delivered()) != 1 {
			t.Errorf("after Reset: attempts %d, failures %d, delivered %d; want 1, 0, 1", r.Attempts(), r.Failures(), len(r.Delivered()))
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		r := notifytest.New()
		r.FailRandomly(0.5, 1)
		done := make(chan error, 1)
		go func() { done <- r.Wait(context.Background(), 50) }()
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 50 {
					for r.Deliver(context.Background(), note(g*1000+i)) != nil {
					}
				}
			})
		}
		wg.Wait()
		if err := <-done; err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if got := len(r.Delivered()); got != 400 {
			t.Errorf("delivered %d, want 400", got)
		}
		if r.Attempts() != 400+r.Failures() {
			t.Errorf("attempts %d != 400 + failures %d", r.Attempts(), r.Failures())
		}
	})
}
