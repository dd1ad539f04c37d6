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
UPDATE orders SET renews = json_array(renews) WHERE renews IS NOT NULL;

CREATE TABLE order_renewals (
	renewed text NOT NULL, -- the order renewed
	renewal text NOT NULL, -- the order that renews it
	PRIMARY KEY (renewed, renewal)
) STRICT, WITHOUT ROWID;
INSERT INTO order_renewals (renewed, renewal)
SELECT DISTINCT r.value, o.id FROM orders o, json_each(o.renews) r WHERE o.renews IS NOT NULL;

CREATE TRIGGER order_renewals_insert AFTER INSERT ON orders
WHEN NEW.renews IS NOT NULL
BEGIN
	INSERT OR IGNORE INTO order_renewals (renewed, renewal)
	SELECT value, NEW.id FROM json_each(NEW.renews);
END;
CREATE TRIGGER order_renewals_update AFTER UPDATE OF id, renews ON orders
WHEN OLD.renews IS NOT NEW.renews OR OLD.id IS NOT NEW.id
BEGIN
	DELETE FROM order_renewals
	WHERE renewed IN (SELECT value FROM json_each(OLD.renews)) AND renewal = OLD.id;
	INSERT OR IGNORE INTO order_renewals (renewed, renewal)
	SELECT value, NEW.id FROM json_each(NEW.renews);
END;
CREATE TRIGGER order_renewals_delete AFTER DELETE ON orders
WHEN OLD.renews IS NOT NULL
BEGIN
	DELETE FROM order_renewals
	WHERE renewed IN (SELECT value FROM json_each(OLD.renews)) AND renewal = OLD.id;
END;
