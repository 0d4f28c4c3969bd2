SELECT COUNT(1) AS cnt
FROM daily_orders
WHERE TD_TIME_RANGE(time, '${day}', TD_TIME_ADD('${day}', '1d'))
  AND quantity <= 0
