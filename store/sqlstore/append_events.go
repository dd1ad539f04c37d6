package sqlstore

import "github.com/licensing-go/licensing"

// appendEvents is AppendEvent for each event in turn, in a fixed number of
// statements: the events are numbered after the counter as this
// transaction sees it, and inserted at once (unnest on PostgreSQL, in the
// statement that also sets the counter; chunks of batchRows rows on
// SQLite, whose counter is written once, before commit, by flushSeq).
//
// This is h-bulk's version, against today's event_seq row; h-feed's
// rewrite of event numbering on PostgreSQL replaces it (same name and
// signature) when the branches merge.
func (t *tx) appendEvents(es []*licensing.Event) error {
	if err := t.writable(); err != nil {
		return err
	}
	if len(es) == 0 {
		return nil
	}
	if !t.seqKnown {
		// The first event reads the counter, as AppendEvent does.
		if err := t.AppendEvent(es[0]); err != nil {
			return err
		}
		es = es[1:]
		if len(es) == 0 {
			return nil
		}
	}
	s := t.s
	base := t.seq
	last := base + int64(len(es))
	if s.d == Postgres {
		c := pgColumns(len(es), eventTypes)
		for k, e := range es {
			actor, err := actorArg(e.Actor)
			if err != nil {
				return err
			}
			c.add(base+int64(k)+1, pgTime(e.At), string(e.Type), actor, e.Partner, e.Company, e.Order, e.Learner,
				e.Licence, e.Tier, int64(e.Count), pgTime(e.ExpiresAt), e.Detail)
		}
		q := "WITH s AS (UPDATE event_seq SET seq = $1 WHERE id = 1) " + c.insertAfter("events", eventCols, 1)
		n, err := t.execCount("append events", q, append([]any{last}, c.args()...)...)
		if err != nil {
			return err
		}
		if n != int64(len(es)) {
			return t.fail("append events", errShortInsert)
		}
	} else {
		rows := make([][]any, len(es))
		for k, e := range es {
			actor, err := actorArg(e.Actor)
			if err != nil {
				return err
			}
			rows[k] = []any{base + int64(k) + 1, s.timeArg(e.At), string(e.Type), actor, e.Partner, e.Company,
				e.Order, e.Learner, e.Licence, e.Tier, e.Count, s.timeArg(e.ExpiresAt), e.Detail}
		}
		if _, err := t.insertRows("append events", "events", eventCols, "", rows); err != nil {
			return err
		}
		t.seqDirty = true
	}
	for k, e := range es {
		e.Seq = base + int64(k) + 1
	}
	t.seq = last
	return nil
}
