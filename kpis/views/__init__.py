"""Pages about KPIs alone — they read KpiSnapshot and the facts, never computing a KPI; who may see
what, and which period a page shows, come from kpis.pages:

- `drill`: the records behind a figure;
- `pipeline`: the pipeline waterfall and the stage funnel of a subject and period;
- `ops`: the admin's recompute, CRM upload and background jobs;
- `imports`: the admin's mapped import of any CRM's CSV (upload, map, preview, import).

The pages that show KPIs against targets (home, scorecard, dashboard) live in targets.views.
"""
