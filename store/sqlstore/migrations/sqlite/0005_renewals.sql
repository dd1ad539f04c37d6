-- Renewals and co-termed top-ups: an order's term may start after its
-- assignment (a renewal assigned before the order it renews expires starts
-- at that expiry), and an order may name the order it renews or tops up.
-- An order already assigned started at its assignment.

ALTER TABLE orders ADD COLUMN starts_at integer;
ALTER TABLE orders ADD COLUMN renews text; -- NULL when it renews nothing
ALTER TABLE orders ADD COLUMN top_up_of text; -- NULL when it tops up nothing
UPDATE orders SET starts_at = assigned_at WHERE assigned_at IS NOT NULL;
-- The renewals of an order, found when its licences are allocated,
-- released or expire.
CREATE INDEX orders_renews ON orders (renews, id) WHERE renews IS NOT NULL;

-- The learners who lost access, named by a licences.access_lost notification.
ALTER TABLE notifications ADD COLUMN learners text;
