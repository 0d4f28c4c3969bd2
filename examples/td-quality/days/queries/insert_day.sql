-- The orders of ${day} from the raw events.
-- DIGDAG_INSERT_LINE
SELECT time, order_id, item, quantity
FROM raw_events
WHERE TD_TIME_RANGE(time, '${day}', TD_TIME_ADD('${day}', '1d'))
