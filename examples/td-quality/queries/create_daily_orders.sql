CREATE TABLE IF NOT EXISTS daily_orders (
  time bigint, order_id bigint, item varchar, quantity bigint
)
