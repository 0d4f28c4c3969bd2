DELETE FROM daily_orders
WHERE TD_TIME_RANGE(time, '${day}', TD_TIME_ADD('${day}', '1d'))
