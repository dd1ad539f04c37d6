-- API v1: partners and companies get ids the ledger generates, and keep the
-- host's own key as an optional ref, unique within the owning partner; the
-- sweep deletes idempotency records past their window.

ALTER TABLE partners ADD COLUMN ref text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX partners_ref ON partners (parent, ref) WHERE ref <> '';

ALTER TABLE companies ADD COLUMN ref text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX companies_ref ON companies (partner, ref) WHERE ref <> '';

CREATE INDEX idempotency_created ON idempotency (created_at);
