SELECT TD_TIME_FORMAT(time, 'yyyy-MM-dd') AS day, item,
       COUNT(1) AS orders, SUM(quantity) AS quantity
FROM daily_orders
GROUP BY 1, 2
ORDER BY 1, 2
