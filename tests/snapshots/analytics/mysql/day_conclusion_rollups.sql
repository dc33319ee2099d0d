-- rollups: rollups (day rows) hold every measure and dimension
SELECT `analytics_rollup`.`bucket_ms` AS `g_time`, `analytics_rollup`.`conclusion` AS `g_conclusion`, SUM(CAST(`analytics_rollup`.`sessions` AS DOUBLE)) AS `x_sessions` FROM `analytics_rollup` WHERE (`analytics_rollup`.`bucket_ms` >= %s AND `analytics_rollup`.`bucket_ms` < %s AND `analytics_rollup`.`grain` = %s AND `analytics_rollup`.`template_id` = %s AND `analytics_rollup`.`dim_names` IN (%s, %s)) GROUP BY 1, 2 ORDER BY 1 ASC, 2 ASC
-- params: [1714521600000, 1722297600000, "d", 7, "", "channel,region"]
