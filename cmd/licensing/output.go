package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/licensing-go/licensing"
)

// output writes v as indented JSON or as human-readable tables.
func output(w io.Writer, asJSON bool, v any) error {
	if asJSON {
		if m, ok := v.(message); ok {
			v = map[string]string{"message": string(m)}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	for i, t := range tables(v) {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := t.write(w); err != nil {
			return err
		}
	}
	return nil
}

// table is lines of text, a header and rows, and lines of text after them.
type table struct {
	title  []string
	header []string
	rows   [][]string
	notes  []string
}

func (t table) write(w io.Writer) error {
	for _, l := range t.title {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	if len(t.header) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(t.header, "\t"))
		for _, r := range t.rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range t.notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}

// tables turns a result into tables: one row per object.
func tables(v any) []table {
	switch v := v.(type) {
	case message:
		return []table{{notes: []string{string(v)}}}
	case licensing.Tier:
		return tables([]licensing.Tier{v})
	case []licensing.Tier:
		t := table{header: []string{"TIER", "TERM", "DESCRIPTION"}}
		for _, x := range v {
			t.rows = append(t.rows, []string{x.Name, x.Term.String(), x.Description})
		}
		return []table{t}
	case licensing.Partner:
		t := table{header: []string{"PARTNER", "PARENT", "NAME", "CONTACTS"}}
		t.rows = append(t.rows, []string{v.ID, dash(v.Parent), v.Name, contacts(v.Contacts)})
		return []table{t}
	case licensing.CreatedCompany:
		out := tables(v.Company)
		if v.Order != nil {
			out = append(out, tables(*v.Order)...)
		}
		return out
	case licensing.Company:
		t := table{header: []string{"COMPANY", "PARTNER", "NAME", "MANAGERS", "AUTO-ALLOCATE"}}
		t.rows = append(t.rows, []string{v.ID, v.Partner, v.Name, contacts(v.Managers), dash(v.AutoAllocate)})
		return []table{t}
	case licensing.Order:
		return tables(licensing.OrderPage{Orders: []licensing.Order{v}})
	case licensing.OrderPage:
		t := table{header: []string{"ORDER", "COMPANY", "TIER", "QTY", "ALLOCATED", "STATUS", "PO", "REQUESTED", "ASSIGNED", "EXPIRES"}}
		for _, o := range v.Orders {
			t.rows = append(t.rows, []string{o.ID, o.Company, o.Tier, itoa(o.Quantity), itoa(o.Allocated),
				string(o.Status), dash(o.PurchaseOrder), when(o.RequestedAt), when(o.AssignedAt), when(o.ExpiresAt)})
		}
		if len(v.Orders) == 0 {
			t = table{notes: []string{"no orders"}}
		}
		if v.Next != "" {
			t.notes = append(t.notes, "next: --after "+v.Next)
		}
		return []table{t}
	case licensing.Learner:
		t := table{header: []string{"LEARNER", "COMPANY", "JOINED", "LAST LOGIN", "LEFT"}}
		t.rows = append(t.rows, []string{v.ID, v.Company, when(v.JoinedAt), when(v.LastLoginAt), when(v.LeftAt)})
		return []table{t}
	case licensing.Licence:
		return tables([]licensing.Licence{v})
	case []licensing.Licence:
		if len(v) == 0 {
			return []table{{notes: []string{"no licences"}}}
		}
		t := table{header: []string{"LICENCE", "LEARNER", "TIER", "ORDER", "ALLOCATED", "EXPIRES", "RELEASED", "FROM"}}
		for _, l := range v {
			t.rows = append(t.rows, []string{l.ID, l.Learner, l.Tier, l.Order, when(l.AllocatedAt),
				when(l.ExpiresAt), when(l.ReleasedAt), dash(l.From)})
		}
		return []table{t}
	case licensing.Entitlement:
		t := table{header: []string{"LEARNER", "TIER", "ENTITLED", "UNTIL", "ORDER", "LICENCE"}}
		yes := "no"
		if v.Entitled {
			yes = "yes"
		}
		t.rows = append(t.rows, []string{v.Learner, v.Tier, yes, when(v.ExpiresAt), dash(v.Order), dash(v.Licence)})
		return []table{t}
	case licensing.Summary:
		t := table{header: []string{"TIER", "AVAILABLE", "ALLOCATED", "EXPIRING SOON", "EXPIRED", "REQUESTED", "REQUESTED SEATS"}}
		for _, x := range v.Tiers {
			t.rows = append(t.rows, []string{x.Tier, itoa(x.Available), itoa(x.Allocated), itoa(x.ExpiringSoon),
				itoa(x.Expired), itoa(x.Requested), itoa(x.RequestedSeats)})
		}
		who := "company " + v.Company
		if v.Partner != "" {
			who = fmt.Sprintf("partner %s (%s)", v.Partner, plural(v.Companies, "company"))
		}
		t.title = []string{"summary of " + who + " at " + when(v.At)}
		if len(v.Tiers) == 0 {
			t.header, t.notes = nil, []string{"no orders"}
		}
		return []table{t}
	case []licensing.Event:
		if len(v) == 0 {
			return []table{{notes: []string{"no events"}}}
		}
		t := table{header: []string{"SEQ", "AT", "TYPE", "ACTOR", "PARTNER", "COMPANY", "ORDER", "LEARNER", "COUNT", "DETAIL"}}
		for _, e := range v {
			t.rows = append(t.rows, []string{fmt.Sprint(e.Seq), when(e.At), string(e.Type), e.Actor.String(),
				dash(e.Partner), dash(e.Company), dash(e.Order), dash(e.Learner), count(e), dash(e.Detail)})
		}
		return []table{t}
	case delivery:
		return []table{{notes: []string{fmt.Sprintf("delivered %d, failed %d, parked %d", v.Delivered, v.Failed, v.Parked)}}}
	case []licensing.Notification:
		if len(v) == 0 {
			return []table{{notes: []string{"no notifications"}}}
		}
		t := table{header: []string{"NOTIFICATION", "KIND", "DAYS", "TO", "COMPANY", "ORDER", "STATE", "ATTEMPTS", "DELIVERED", "NEXT ATTEMPT", "LAST ERROR"}}
		for _, n := range v {
			next, days := "-", "-"
			if n.Kind == licensing.NotifyReminder {
				days = itoa(n.Days)
			}
			if n.State == licensing.DeliveryPending {
				next = when(n.NextAttempt)
			}
			t.rows = append(t.rows, []string{n.ID, string(n.Kind), days, dash(strings.Join(n.To, ",")), dash(n.Company), dash(n.Order),
				string(n.State), itoa(n.Attempts), when(n.DeliveredAt), next, dash(n.LastError)})
		}
		return []table{t}
	case buildVersion:
		return []table{{notes: []string{v.String()}}}
	case licensing.SweepResult:
		return []table{{notes: []string{fmt.Sprintf("swept: %s expired, %s queued", plural(v.Expired, "order"), plural(v.Reminders, "reminder"))}}}
	}
	// A result without a table of its own prints as JSON.
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []table{{notes: []string{fmt.Sprint(v)}}}
	}
	return []table{{notes: []string{string(b)}}}
}

// when formats an instant for a table: "-" for none, "never" for Never.
func when(t time.Time) string {
	switch {
	case t.IsZero():
		return "-"
	case t.Equal(licensing.Never):
		return "never"
	}
	return t.UTC().Format("2006-01-02T15:04:05.999999Z")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func contacts(cs []licensing.Contact) string {
	if len(cs) == 0 {
		return "-"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Email
	}
	return strings.Join(parts, ",")
}

// plural returns "1 order", "2 orders", "2 companies".
func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// count is an event's Count for a table: "-" for none, except that a
// reminder's 0 is the day of expiry.
func count(e licensing.Event) string {
	if e.Count == 0 && e.Type != licensing.EventReminderQueued {
		return "-"
	}
	return itoa(e.Count)
}
