-- Build today's orders from a literal set so the example needs no data of its own.
SELECT * FROM (
  VALUES (1, 'apple', 3), (2, 'pear', 5), (3, 'plum', 1)
) AS t(id, item, quantity)
