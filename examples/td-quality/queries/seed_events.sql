-- Seven days x 24 hours x 5 orders of raw events: the session day and the six before it.
SELECT
  TD_SCHEDULED_TIME() - 86400 * d + 3600 * h + o AS time,
  d * 1000 + h * 10 + o AS order_id,
  element_at(ARRAY['apple', 'pear', 'plum', 'fig', 'kiwi'], o + 1) AS item,
  CASE WHEN ${typeof bad_rows !== 'undefined' && bad_rows == 'true'} AND d = 0 AND h = 12 THEN 0 ELSE (h % 4) + 1 END AS quantity
FROM UNNEST(sequence(0, 6)) AS days(d)
CROSS JOIN UNNEST(sequence(0, 23)) AS hours(h)
CROSS JOIN UNNEST(sequence(0, 4)) AS orders(o)
