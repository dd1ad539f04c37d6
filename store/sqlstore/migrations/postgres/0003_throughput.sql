-- Throughput: no global serialization point. Writers no longer share the
-- event counter row; events are numbered from a sequence (unique and
-- increasing, with gaps) and carry the id of the transaction that wrote
-- them. The feed is ordered by (xid, seq), and a reader only lists events
-- of transactions older than every transaction still running (see the
-- package documentation). event_streams has one row per stream (a company,
-- else a partner, else the platform): every transaction that appends events
-- to a stream updates its row, so two concurrent writers of one company
-- cannot both commit.

CREATE SEQUENCE events_seq AS bigint OWNED BY events.seq;
SELECT setval('events_seq', seq) FROM event_seq WHERE id = 1 AND seq > 0;
ALTER TABLE events ALTER COLUMN seq SET DEFAULT nextval('events_seq');

-- Existing events get xid 0, so they come first, in seq order.
ALTER TABLE events ADD COLUMN xid bigint NOT NULL DEFAULT 0;
ALTER TABLE events ALTER COLUMN xid SET DEFAULT pg_current_xact_id()::text::bigint;

DROP INDEX events_company;
DROP INDEX events_partner;
CREATE INDEX events_feed ON events (xid, seq);
CREATE INDEX events_company ON events (company, xid, seq);
CREATE INDEX events_partner ON events (partner, xid, seq);

CREATE TABLE event_streams (
	stream  text COLLATE "C" PRIMARY KEY,
	version bigint NOT NULL
);

DROP TABLE event_seq;
