SELECT COUNT(*) AS cnt FROM daily_orders WHERE quantity <= 0
