package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/licensing-go/licensing"
)

// output writes v as indented JSON or as human-readable tables.
func output(w io.Writer, asJSON bool, v any) error {
	if asJSON {
		if m, ok := v.(message); ok {
			v = map[string]string{"message": string(m)}
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := w.Write(escapeJSON(b.Bytes()))
		return err
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

// write prints the table with every cell and line escaped (see escape):
// what it prints comes from stored text, a company's name or a remote
// server's error, which must not drive the terminal or break the columns.
func (t table) write(w io.Writer) error {
	for _, l := range t.title {
		if _, err := fmt.Fprintln(w, escapeLines(l)); err != nil {
			return err
		}
	}
	if len(t.header) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range append([][]string{t.header}, t.rows...) {
			cells := make([]string, len(r))
			for i, c := range r {
				cells[i] = escape(c)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range t.notes {
		if _, err := fmt.Fprintln(w, escapeLines(n)); err != nil {
			return err
		}
	}
	return nil
}

// escape makes s safe to print on a terminal, in Go's quoted-string
// style without the quotes: a control character, an escape sequence's ESC,
// a bidi override or isolate, any other character that is not printable
// (strconv.IsPrint) and an invalid byte print as escapes (\x1b, \n, \u202e,
// \xff), and a backslash as \\, so that what is printed reads back
// unambiguously. The zero-width joiner and non-joiner, which emoji and some
// scripts need, are kept.
func escape(s string) string {
	if printableASCII(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case strconv.IsPrint(r) || r == '\u200c' || r == '\u200d':
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// escapeLines escapes each line of s, keeping the line breaks: for a note
// of several lines.
func escapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = escape(l)
	}
	return strings.Join(lines, "\n")
}

// printableASCII reports whether s is made of the bytes from space to
// tilde, but for the backslash: nothing to escape.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// escapeJSON escapes, as \uXXXX, every character of encoded JSON that is
// not printable and that encoding/json leaves as it is (DEL, bidi controls,
// other format characters): JSON allows the escape anywhere in a string,
// and such characters occur only in strings, so the document decodes to the
// same values and prints safely on a terminal.
func escapeJSON(b []byte) []byte {
	clean := true
	for _, c := range b {
		if c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == '\n' || strconv.IsPrint(r) || r == utf8.RuneError && size == 1 {
			out = append(out, b[i:i+size]...)
		} else if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	return out
}

// tables turns a result into tables: one row per object.
func tables(v any) []table {
	switch v := v.(type) {
	case message:
		return []table{{notes: []string{string(v)}}}
	case licensing.Tier:
		return tables(licensing.Page[licensing.Tier]{Items: []licensing.Tier{v}})
	case licensing.Page[licensing.Tier]:
		return listing(v, "tiers", []string{"TIER", "TERM", "DESCRIPTION"}, func(x licensing.Tier) []string {
			return []string{x.Name, x.Term.String(), x.Description}
		})
	case licensing.Partner:
		return tables(licensing.Page[licensing.Partner]{Items: []licensing.Partner{v}})
	case licensing.Page[licensing.Partner]:
		return listing(v, "partners", []string{"PARTNER", "REF", "PARENT", "NAME", "CONTACTS"}, func(p licensing.Partner) []string {
			return []string{p.ID, dash(p.Ref), dash(p.Parent), p.Name, contacts(p.Contacts)}
		})
	case licensing.CreatedCompany:
		out := tables(v.Company)
		if v.Order != nil {
			out = append(out, tables(*v.Order)...)
		}
		return out
	case licensing.Company:
		return tables(licensing.Page[licensing.Company]{Items: []licensing.Company{v}})
	case licensing.Page[licensing.Company]:
		return listing(v, "companies", []string{"COMPANY", "REF", "PARTNER", "NAME", "MANAGERS", "AUTO-ALLOCATE"}, func(c licensing.Company) []string {
			return []string{c.ID, dash(c.Ref), c.Partner, c.Name, contacts(c.Managers), dash(c.AutoAllocate)}
		})
	case licensing.Order:
		return tables(licensing.Page[licensing.Order]{Items: []licensing.Order{v}})
	case licensing.Page[licensing.Order]:
		// A renewal or a top-up adds when each order starts and what it
		// renews or tops up; pages without one keep the plain columns.
		linked := slices.ContainsFunc(v.Items, func(o licensing.Order) bool { return len(o.Renews) > 0 || o.TopUpOf != "" })
		header := []string{"ORDER", "COMPANY", "TIER", "QTY", "ALLOCATED", "STATUS", "PO", "REQUESTED", "ASSIGNED", "EXPIRES"}
		if linked {
			header = append(header, "STARTS", "LINK")
		}
		return listing(v, "orders", header, func(o licensing.Order) []string {
			row := []string{o.ID, o.Company, o.Tier, itoa(o.Quantity), itoa(o.Allocated),
				string(o.Status), dash(o.PurchaseOrder), when(o.RequestedAt), when(o.AssignedAt), when(o.ExpiresAt)}
			if linked {
				link := "-"
				switch {
				case len(o.Renews) > 0:
					link = "renews " + strings.Join(o.Renews, ", ")
				case o.TopUpOf != "":
					link = "tops up " + o.TopUpOf
				}
				row = append(row, when(o.StartsAt), link)
			}
			return row
		})
	case licensing.Learner:
		return tables(licensing.Page[licensing.Learner]{Items: []licensing.Learner{v}})
	case licensing.Page[licensing.Learner]:
		return listing(v, "learners", []string{"LEARNER", "COMPANY", "JOINED", "LAST LOGIN", "LEFT"}, func(l licensing.Learner) []string {
			return []string{l.ID, l.Company, when(l.JoinedAt), when(l.LastLoginAt), when(l.LeftAt)}
		})
	case licensing.Licence:
		return tables([]licensing.Licence{v})
	case []licensing.Licence:
		return tables(licensing.Page[licensing.Licence]{Items: v})
	case licensing.Page[licensing.Licence]:
		return listing(v, "licences", []string{"LICENCE", "LEARNER", "TIER", "ORDER", "ALLOCATED", "EXPIRES", "RELEASED", "FROM"}, func(l licensing.Licence) []string {
			return []string{l.ID, l.Learner, l.Tier, l.Order, when(l.AllocatedAt),
				when(l.ExpiresAt), when(l.ReleasedAt), dash(l.FromLicence)}
		})
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
		// Seats of renewals not started show when there are some.
		upcoming := slices.ContainsFunc(v.Tiers, func(x licensing.TierSummary) bool { return x.Upcoming > 0 })
		if upcoming {
			t.header = append(t.header, "UPCOMING")
		}
		for _, x := range v.Tiers {
			row := []string{x.Tier, itoa(x.Available), itoa(x.Allocated), itoa(x.ExpiringSoon),
				itoa(x.Expired), itoa(x.Requested), itoa(x.RequestedSeats)}
			if upcoming {
				row = append(row, itoa(x.Upcoming))
			}
			t.rows = append(t.rows, row)
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
		return tables(licensing.Page[licensing.Event]{Items: v})
	case licensing.Page[licensing.Event]:
		return listing(v, "events", []string{"SEQ", "AT", "TYPE", "ACTOR", "PARTNER", "COMPANY", "ORDER", "LEARNER", "COUNT", "DETAIL"}, func(e licensing.Event) []string {
			return []string{fmt.Sprint(e.Seq), when(e.At), string(e.Type), e.Actor.String(),
				dash(e.Partner), dash(e.Company), dash(e.Order), dash(e.Learner), count(e), dash(e.Detail)}
		})
	case delivery:
		return []table{{notes: []string{fmt.Sprintf("delivered %d, failed %d, parked %d", v.Delivered, v.Failed, v.Parked)}}}
	case licensing.Notification:
		return tables(licensing.Page[licensing.Notification]{Items: []licensing.Notification{v}})
	case licensing.Page[licensing.Notification]:
		header := []string{"NOTIFICATION", "KIND", "DAYS", "TO", "COMPANY", "ORDER", "STATE", "ATTEMPTS", "DELIVERED", "NEXT ATTEMPT", "LAST ERROR"}
		return listing(v, "notifications", header, func(n licensing.Notification) []string {
			next, days := "-", "-"
			if n.Kind == licensing.NotifyReminder {
				days = itoa(n.Days)
			}
			to := strings.Join(n.To, ",")
			if n.Kind == licensing.NotifyAccessLost {
				to += " (lost access: " + strings.Join(n.Learners, ",") + ")"
			}
			if n.State == licensing.DeliveryPending {
				next = when(n.NextAttempt)
			}
			return []string{n.ID, string(n.Kind), days, dash(to), dash(n.Company), dash(n.Order),
				string(n.State), itoa(n.Attempts), when(n.DeliveredAt), next, dash(n.LastError)}
		})
	case licensing.Forecast:
		return forecastTables(v)
	case buildVersion:
		return []table{{notes: []string{v.String()}}}
	case *simulation:
		return v.tables()
	case licensing.SweepResult:
		line := fmt.Sprintf("swept: %s expired, %s queued", plural(v.Expired, "order"), plural(v.Reminders, "reminder"))
		if v.Forgotten > 0 {
			line += fmt.Sprintf(", %s forgotten", plural(v.Forgotten, "idempotency key"))
		}
		return []table{{notes: []string{line}}}
	}
	// A result without a table of its own prints as JSON.
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []table{{notes: []string{fmt.Sprint(v)}}}
	}
	return []table{{notes: []string{string(b)}}}
}

// listing is the table of a page: a row per item, "no <noun>" for none,
// and, when there is a next page, the flag that reads it.
func listing[T any](p licensing.Page[T], noun string, header []string, row func(T) []string) []table {
	t := table{header: header}
	for _, x := range p.Items {
		t.rows = append(t.rows, row(x))
	}
	if len(p.Items) == 0 {
		t = table{notes: []string{"no " + noun}}
	}
	if p.Next != "" {
		t.notes = append(t.notes, "next: --after "+p.Next)
	}
	return []table{t}
}

// when formats an instant for a table: "-" for none, "never" for Never.
func when(t time.Time) string {
	switch {
	case t.IsZero():
		return "-"
	case t.Equal(licensing.Never()):
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

// forecastTables prints a forecast: a row per expiry and notification, by
// day, then the seats to order.
func forecastTables(f licensing.Forecast) []table {
	who := "every company"
	switch {
	case f.Company != "":
		who = "company " + f.Company
	case f.Partner != "":
		who = "partner " + f.Partner
	}
	days := table{title: []string{"forecast of " + who + " from " + when(f.From) + " until " + when(f.Until)},
		header: []string{"DATE", "AT", "WHAT", "ORDER", "COMPANY", "TIER", "DETAIL"}}
	for _, d := range f.Days {
		for _, x := range d.Expiries {
			detail := fmt.Sprintf("%s; lost access: %s", plural(x.Quantity, "seat"), dash(strings.Join(x.LostAccess, ",")))
			if len(x.Continued) > 0 {
				on := make([]string, len(x.Continued))
				for i, c := range x.Continued {
					on[i] = c.Learner + " on " + c.Order
				}
				detail += "; continued: " + strings.Join(on, ",")
			}
			days.rows = append(days.rows, []string{d.Date, when(x.At), "expires", x.Order, x.Company, x.Tier, detail})
		}
		for _, n := range d.Notifications {
			what := string(n.Kind)
			if n.Kind == licensing.NotifyReminder {
				what = fmt.Sprintf("reminder %dd", n.Days)
			}
			detail := fmt.Sprintf("to %s; allocated %d, unallocated %d", dash(strings.Join(n.To, ",")), n.Allocated, n.Unallocated)
			if n.Kind == licensing.NotifyAccessLost {
				detail = fmt.Sprintf("to %s; lost access: %s", dash(strings.Join(n.To, ",")), dash(strings.Join(n.Learners, ",")))
			}
			days.rows = append(days.rows, []string{d.Date, when(n.At), what, dash(n.Order), n.Company, n.Tier, detail})
		}
	}
	if len(f.Days) == 0 {
		days.header, days.notes = nil, []string{"nothing expires and no reminder is due"}
	}
	short := table{title: []string{"seats to order to keep every learner licensed until " + when(f.Until)},
		header: []string{"COMPANY", "TIER", "LOSING ACCESS", "FREE SEATS", "SEATS TO ORDER"}}
	for _, s := range f.Shortfall {
		short.rows = append(short.rows, []string{s.Company, s.Tier, strings.Join(s.Learners, ","), itoa(s.Free), itoa(s.Seats)})
	}
	if len(f.Shortfall) == 0 {
		short.header, short.notes = nil, []string{"none: no learner loses access"}
	}
	return []table{days, short}
}
