-- rollups: rollups (day rows without status/severity) hold every measure and dimension
SELECT "analytics_rollup_hours"."day_ms" AS "g_time", "analytics_rollup_hours"."conclusion" AS "g_conclusion", SUM("analytics_rollup_hours"."sessions") AS "x_sessions" FROM "analytics_rollup_hours" WHERE ("analytics_rollup_hours"."day_ms" >= %s AND "analytics_rollup_hours"."day_ms" < %s AND "analytics_rollup_hours"."template_id" = %s AND "analytics_rollup_hours"."dim_names" IN (%s, %s)) GROUP BY 1, 2 ORDER BY 1 ASC, 2 ASC
-- params: [1714521600000, 1722297600000, 7, "", "channel,region"]
