package storetest

import (
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
)

// Typed equality for the records the Model test compares after every step:
// cmp.Diff, and reflection in general, are too slow to run on the whole
// store at every step under the race detector, so they only explain a
// difference these functions found. Instants must be equal and, on the got
// side (b), in UTC; a nil slice equals an empty one.

func sameTime(a, b time.Time) bool { return a.Equal(b) && b.Location() == time.UTC }

func sameSlices[T any](a, b []T, eq func(T, T) bool) bool {
	return slices.EqualFunc(a, b, eq)
}

func samePartner(a, b licensing.Partner) bool {
	return a.ID == b.ID && a.Ref == b.Ref && a.Parent == b.Parent && slices.Equal(a.Ancestors, b.Ancestors) && a.Name == b.Name &&
		slices.Equal(a.Contacts, b.Contacts) && sameTime(a.CreatedAt, b.CreatedAt)
}

func sameCompany(a, b licensing.Company) bool {
	return a.ID == b.ID && a.Ref == b.Ref && a.Partner == b.Partner && a.Name == b.Name && slices.Equal(a.Managers, b.Managers) &&
		a.AutoAllocate == b.AutoAllocate && sameTime(a.CreatedAt, b.CreatedAt)
}

// sameOrder compares orders, with Reminded as a set.
func sameOrder(a, b licensing.Order) bool {
	ra, rb := slices.Clone(a.Reminded), slices.Clone(b.Reminded)
	slices.Sort(ra)
	slices.Sort(rb)
	return a.ID == b.ID && a.Company == b.Company && a.Partner == b.Partner && a.Tier == b.Tier &&
		a.Quantity == b.Quantity && a.PurchaseOrder == b.PurchaseOrder && a.Status == b.Status &&
		sameTime(a.RequestedAt, b.RequestedAt) && a.RequestedBy == b.RequestedBy &&
		sameTime(a.AssignedAt, b.AssignedAt) && a.AssignedBy == b.AssignedBy && sameTime(a.ExpiresAt, b.ExpiresAt) &&
		sameTime(a.ClosedAt, b.ClosedAt) && a.ClosedBy == b.ClosedBy && a.Reason == b.Reason &&
		a.Allocated == b.Allocated && slices.Equal(ra, rb) && sameTime(a.StartsAt, b.StartsAt) &&
		slices.Equal(a.Renews, b.Renews) && a.TopUpOf == b.TopUpOf
}

func sameLicence(a, b licensing.Licence) bool {
	return a.ID == b.ID && a.Company == b.Company && a.Learner == b.Learner && a.Tier == b.Tier && a.Order == b.Order &&
		sameTime(a.AllocatedAt, b.AllocatedAt) && a.AllocatedBy == b.AllocatedBy && sameTime(a.ExpiresAt, b.ExpiresAt) &&
		sameTime(a.ReleasedAt, b.ReleasedAt) && a.FromLicence == b.FromLicence && a.ToLicence == b.ToLicence
}

func sameLearner(a, b licensing.Learner) bool {
	return a.Company == b.Company && a.ID == b.ID && sameTime(a.JoinedAt, b.JoinedAt) &&
		sameTime(a.LastLoginAt, b.LastLoginAt) && sameTime(a.LeftAt, b.LeftAt)
}

func sameEntitlement(a, b licensing.Entitlement) bool {
	return a.Company == b.Company && a.Learner == b.Learner && a.Tier == b.Tier && a.Entitled == b.Entitled &&
		a.Licence == b.Licence && a.Order == b.Order && sameTime(a.ExpiresAt, b.ExpiresAt)
}

func sameSummary(a, b licensing.Summary) bool {
	return a.Company == b.Company && a.Partner == b.Partner && sameTime(a.At, b.At) && slices.Equal(a.Tiers, b.Tiers) &&
		a.Companies == b.Companies
}

// sameEvent compares events but for Seq.
func sameEvent(a, b licensing.Event) bool {
	return sameTime(a.At, b.At) && a.Type == b.Type && a.Actor == b.Actor && a.Partner == b.Partner &&
		a.Company == b.Company && a.Order == b.Order && a.Learner == b.Learner && a.Licence == b.Licence &&
		a.Tier == b.Tier && a.Count == b.Count && sameTime(a.ExpiresAt, b.ExpiresAt) && a.Detail == b.Detail
}

// sameNote compares notifications but for ID.
func sameNote(a, b licensing.Notification) bool {
	return a.Kind == b.Kind && sameTime(a.CreatedAt, b.CreatedAt) && slices.Equal(a.To, b.To) && a.Partner == b.Partner &&
		a.Company == b.Company && a.CompanyName == b.CompanyName && a.Order == b.Order && a.Tier == b.Tier &&
		a.Quantity == b.Quantity && sameTime(a.ExpiresAt, b.ExpiresAt) && a.Allocated == b.Allocated &&
		a.Unallocated == b.Unallocated && a.Days == b.Days && a.Reason == b.Reason && a.State == b.State &&
		a.Attempts == b.Attempts && sameTime(a.NextAttempt, b.NextAttempt) && sameTime(a.DeliveredAt, b.DeliveredAt) &&
		a.LastError == b.LastError && slices.Equal(a.Learners, b.Learners)
}

// explain says how got differs from want, once a typed comparison found
// that it does: cmp's diff, or the instants not in UTC.
func explain(want, got any, opts ...cmp.Option) string {
	if d := diffString(want, got, opts...); d != "" {
		return d
	}
	if p := nonUTC(got); len(p) > 0 {
		return "instants not in UTC:\n" + strings.Join(p, "\n")
	}
	return "(no difference cmp can show)"
}
