-- The licence ledger's schema for PostgreSQL.
--
-- Ids are text in the "C" collation, so that ORDER BY id is byte order: the
-- order of the ids the ledger makes, and of every other store. Instants are
-- timestamptz (microseconds, UTC); a zero time is NULL. Lists and actors are
-- jsonb; NULL is a nil list or the zero actor. A NULL instant sorts before
-- every other, like the zero time (NULLS FIRST ascending, NULLS LAST
-- descending), in the queries and in the indexes that serve them.

CREATE TABLE tiers (
	name        text COLLATE "C" PRIMARY KEY,
	term_months integer NOT NULL,
	term_days   integer NOT NULL,
	description text    NOT NULL
);

CREATE TABLE partners (
	id         text COLLATE "C" PRIMARY KEY,
	parent     text COLLATE "C" NOT NULL,
	ancestors  jsonb,
	name       text NOT NULL,
	contacts   jsonb,
	created_at timestamptz
);
CREATE INDEX partners_parent ON partners (parent, id);

CREATE TABLE companies (
	id            text COLLATE "C" PRIMARY KEY,
	partner       text COLLATE "C" NOT NULL,
	name          text NOT NULL,
	managers      jsonb,
	auto_allocate text NOT NULL,
	created_at    timestamptz
);
CREATE INDEX companies_partner ON companies (partner, id);

CREATE TABLE orders (
	id             text COLLATE "C" PRIMARY KEY,
	company        text COLLATE "C" NOT NULL,
	partner        text COLLATE "C" NOT NULL,
	tier           text COLLATE "C" NOT NULL,
	quantity       integer NOT NULL,
	purchase_order text COLLATE "C", -- NULL when there is none
	status         text NOT NULL,
	requested_at   timestamptz,
	requested_by   jsonb,
	assigned_at    timestamptz,
	assigned_by    jsonb,
	expires_at     timestamptz,
	closed_at      timestamptz,
	closed_by      jsonb,
	reason         text NOT NULL,
	-- allocated is the seat count, kept by the ledger with each allocation
	-- and release: never a count(*) of the licences.
	allocated      integer NOT NULL,
	reminded       jsonb,
	CONSTRAINT orders_seats CHECK (allocated >= 0 AND allocated <= quantity)
);
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
CREATE INDEX orders_free ON orders (company, tier, expires_at, assigned_at NULLS FIRST, id) WHERE status = 'assigned';

CREATE TABLE learners (
	company       text COLLATE "C" NOT NULL,
	id            text COLLATE "C" NOT NULL,
	joined_at     timestamptz,
	last_login_at timestamptz,
	left_at       timestamptz,
	PRIMARY KEY (company, id)
);

CREATE TABLE licences (
	id           text COLLATE "C" PRIMARY KEY,
	company      text COLLATE "C" NOT NULL,
	learner      text COLLATE "C" NOT NULL,
	tier         text COLLATE "C" NOT NULL,
	order_id     text COLLATE "C" NOT NULL,
	allocated_at timestamptz,
	allocated_by jsonb,
	expires_at   timestamptz,
	released_at  timestamptz,
	from_licence text COLLATE "C" NOT NULL,
	to_licence   text COLLATE "C" NOT NULL
);
CREATE INDEX licences_company ON licences (company, id);
CREATE INDEX licences_learner ON licences (company, learner, id);
CREATE INDEX licences_order ON licences (order_id, id);
-- The entitlement check: the learner's unreleased licence of a tier that
-- expires last.
CREATE INDEX licences_current ON licences (company, learner, tier, expires_at DESC NULLS LAST, id DESC) WHERE released_at IS NULL;

CREATE TABLE events (
	seq        bigint PRIMARY KEY,
	at         timestamptz,
	type       text NOT NULL,
	actor      jsonb,
	partner    text COLLATE "C" NOT NULL,
	company    text COLLATE "C" NOT NULL,
	order_id   text COLLATE "C" NOT NULL,
	learner    text COLLATE "C" NOT NULL,
	licence    text COLLATE "C" NOT NULL,
	tier       text COLLATE "C" NOT NULL,
	count      integer NOT NULL,
	expires_at timestamptz,
	detail     text NOT NULL
);
CREATE INDEX events_company ON events (company, seq);
CREATE INDEX events_partner ON events (partner, seq);

-- The last event sequence number. Every change appends an event, so every
-- writer updates this row; its row lock orders the writers, which makes
-- sequence numbers follow commit order with no gaps.
CREATE TABLE event_seq (
	id  integer PRIMARY KEY CHECK (id = 1),
	seq bigint NOT NULL
);
INSERT INTO event_seq (id, seq) VALUES (1, 0);

CREATE TABLE notifications (
	id           text COLLATE "C" PRIMARY KEY,
	kind         text NOT NULL,
	created_at   timestamptz,
	recipients   jsonb,
	partner      text COLLATE "C" NOT NULL,
	company      text COLLATE "C" NOT NULL,
	company_name text NOT NULL,
	order_id     text COLLATE "C" NOT NULL,
	tier         text COLLATE "C" NOT NULL,
	quantity     integer NOT NULL,
	expires_at   timestamptz,
	allocated    integer NOT NULL,
	unallocated  integer NOT NULL,
	days         integer NOT NULL,
	reason       text NOT NULL,
	state        text NOT NULL,
	attempts     integer NOT NULL,
	next_attempt timestamptz,
	delivered_at timestamptz,
	last_error   text NOT NULL
);
CREATE INDEX notifications_state ON notifications (state, id);

CREATE TABLE idempotency (
	scope      text COLLATE "C" NOT NULL,
	key        text COLLATE "C" NOT NULL,
	command    text NOT NULL,
	hash       text NOT NULL,
	result     bytea,
	created_at timestamptz,
	PRIMARY KEY (scope, key)
);
