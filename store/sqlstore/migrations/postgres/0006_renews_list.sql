-- A renewal may renew several orders (of one company and tier): orders.renews
-- holds the ids as a JSON array, sorted, each once (NULL when the order renews
-- nothing), and order_renewals holds one row per order renewed, so that the
-- renewals of an order are found through its primary key, in id order.
--
-- Triggers keep order_renewals in step with orders.renews: a row is written
-- when an order is inserted with renews, rewritten when renews changes, and
-- removed with the order. An update that leaves renews as it was (every put of
-- an order, at each seat allocated or released) fires nothing, so the store
-- writes the table only when an order's list is new or changes, with no
-- statement of its own.

DROP INDEX orders_renews;
ALTER TABLE orders ALTER COLUMN renews TYPE jsonb
	USING CASE WHEN renews IS NOT NULL THEN jsonb_build_array(renews) END;

CREATE TABLE order_renewals (
	renewed text COLLATE "C" NOT NULL, -- the order renewed
	renewal text COLLATE "C" NOT NULL, -- the order that renews it
	PRIMARY KEY (renewed, renewal)
);
INSERT INTO order_renewals (renewed, renewal)
SELECT DISTINCT r, id FROM orders, jsonb_array_elements_text(renews) r WHERE renews IS NOT NULL;

-- The search path is the one of the migration, so that the trigger writes the
-- ledger's table whatever the path of the session that changes an order.
CREATE FUNCTION order_renewals_sync() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP <> 'INSERT' AND OLD.renews IS NOT NULL THEN
		DELETE FROM order_renewals
		WHERE renewed IN (SELECT jsonb_array_elements_text(OLD.renews)) AND renewal = OLD.id;
	END IF;
	IF TG_OP <> 'DELETE' AND NEW.renews IS NOT NULL THEN
		INSERT INTO order_renewals (renewed, renewal)
		SELECT r, NEW.id FROM jsonb_array_elements_text(NEW.renews) r
		ON CONFLICT DO NOTHING;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER order_renewals_insert AFTER INSERT ON orders
	FOR EACH ROW WHEN (NEW.renews IS NOT NULL) EXECUTE FUNCTION order_renewals_sync();
CREATE TRIGGER order_renewals_update AFTER UPDATE OF id, renews ON orders
	FOR EACH ROW WHEN (OLD.renews IS DISTINCT FROM NEW.renews OR OLD.id <> NEW.id) EXECUTE FUNCTION order_renewals_sync();
CREATE TRIGGER order_renewals_delete AFTER DELETE ON orders
	FOR EACH ROW WHEN (OLD.renews IS NOT NULL) EXECUTE FUNCTION order_renewals_sync();
