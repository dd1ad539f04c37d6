-- The licence ledger's schema for SQLite.
--
-- Tables are STRICT. Ids are text in SQLite's binary collation, so that ORDER
-- BY id is byte order. Instants are integers, Unix microseconds (UTC); a zero
-- time is NULL. Lists and actors are JSON text; NULL is a nil list or the zero
-- actor.

CREATE TABLE tiers (
	name        text PRIMARY KEY,
	term_months integer NOT NULL,
	term_days   integer NOT NULL,
	description text    NOT NULL
) STRICT;

CREATE TABLE partners (
	id         text PRIMARY KEY,
	parent     text NOT NULL,
	ancestors  text,
	name       text NOT NULL,
	contacts   text,
	created_at integer
) STRICT;
CREATE INDEX partners_parent ON partners (parent, id);

CREATE TABLE companies (
	id            text PRIMARY KEY,
	partner       text NOT NULL,
	name          text NOT NULL,
	managers      text,
	auto_allocate text NOT NULL,
	created_at    integer
) STRICT;
CREATE INDEX companies_partner ON companies (partner, id);

CREATE TABLE orders (
	id             text PRIMARY KEY,
	company        text NOT NULL,
	partner        text NOT NULL,
	tier           text NOT NULL,
	quantity       integer NOT NULL,
	purchase_order text, -- NULL when there is none
	status         text NOT NULL,
	requested_at   integer,
	requested_by   text,
	assigned_at    integer,
	assigned_by    text,
	expires_at     integer,
	closed_at      integer,
	closed_by      text,
	reason         text NOT NULL,
	-- allocated is the seat count, kept by the ledger with each allocation
	-- and release: never a count(*) of the licences.
	allocated      integer NOT NULL,
	reminded       text,
	CONSTRAINT orders_seats CHECK (allocated >= 0 AND allocated <= quantity)
) STRICT;
-- A listing walks an index in id order, and stops after a page: the
-- primary key when nothing narrows it, these when a purchase order, a
-- company, a partner or a status does, and the last two when a company or a
-- partner is asked for with one status (a tier is then checked on each row).
CREATE INDEX orders_purchase_order ON orders (purchase_order, id) WHERE purchase_order IS NOT NULL;
CREATE INDEX orders_company ON orders (company, id);
CREATE INDEX orders_partner ON orders (partner, id);
CREATE INDEX orders_status ON orders (status, id);
CREATE INDEX orders_company_status ON orders (company, status, id);
CREATE INDEX orders_partner_status ON orders (partner, status, id);
-- The sweep: assigned orders that expire before a bound.
CREATE INDEX orders_status_expiry ON orders (status, expires_at);
-- FreeOrders: a company's live orders of a tier, the first to expire first.
CREATE INDEX orders_free ON orders (company, tier, expires_at, assigned_at, id) WHERE status = 'assigned';

CREATE TABLE learners (
	company       text NOT NULL,
	id            text NOT NULL,
	joined_at     integer,
	last_login_at integer,
	left_at       integer,
	PRIMARY KEY (company, id)
) STRICT;

CREATE TABLE licences (
	id           text PRIMARY KEY,
	company      text NOT NULL,
	learner      text NOT NULL,
	tier         text NOT NULL,
	order_id     text NOT NULL,
	allocated_at integer,
	allocated_by text,
	expires_at   integer,
	released_at  integer,
	from_licence text NOT NULL,
	to_licence   text NOT NULL
) STRICT;
CREATE INDEX licences_company ON licences (company, id);
CREATE INDEX licences_learner ON licences (company, learner, id);
CREATE INDEX licences_order ON licences (order_id, id);
-- The entitlement check: the learner's unreleased licence of a tier that
-- expires last.
CREATE INDEX licences_current ON licences (company, learner, tier, expires_at, id) WHERE released_at IS NULL;

CREATE TABLE events (
	seq        integer PRIMARY KEY,
	at         integer,
	type       text NOT NULL,
	actor      text,
	partner    text NOT NULL,
	company    text NOT NULL,
	order_id   text NOT NULL,
	learner    text NOT NULL,
	licence    text NOT NULL,
	tier       text NOT NULL,
	count      integer NOT NULL,
	expires_at integer,
	detail     text NOT NULL
) STRICT;
CREATE INDEX events_company ON events (company, seq);
CREATE INDEX events_partner ON events (partner, seq);

-- The last event sequence number. Every change appends an event, so every
-- writer updates this row; its row lock orders the writers, which makes
-- sequence numbers follow commit order with no gaps.
CREATE TABLE event_seq (
	id  integer PRIMARY KEY CHECK (id = 1),
	seq integer NOT NULL
) STRICT;
INSERT INTO event_seq (id, seq) VALUES (1, 0);

CREATE TABLE notifications (
	id           text PRIMARY KEY,
	kind         text NOT NULL,
	created_at   integer,
	recipients   text,
	partner      text NOT NULL,
	company      text NOT NULL,
	company_name text NOT NULL,
	order_id     text NOT NULL,
	tier         text NOT NULL,
	quantity     integer NOT NULL,
	expires_at   integer,
	allocated    integer NOT NULL,
	unallocated  integer NOT NULL,
	days         integer NOT NULL,
	reason       text NOT NULL,
	state        text NOT NULL,
	attempts     integer NOT NULL,
	next_attempt integer,
	delivered_at integer,
	last_error   text NOT NULL
) STRICT;
CREATE INDEX notifications_state ON notifications (state, id);

CREATE TABLE idempotency (
	scope      text NOT NULL,
	key        text NOT NULL,
	command    text NOT NULL,
	hash       text NOT NULL,
	result     blob,
	created_at integer,
	PRIMARY KEY (scope, key)
) STRICT;
