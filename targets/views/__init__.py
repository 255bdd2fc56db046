"""The pages about targets, one module per page family:

- home: the role redirect (dashboard for managers and admins, scorecard for reps);
- scorecard: a rep's KPIs against their targets, and the forecast form;
- dashboard: a team's or the company's KPIs against targets;
- forecast: a subject's forecast roll-up, its levels' submissions, and the commit form;
- targets: the target list, and one target at a time (set, edit, delete, spread);
- grid: the reps × months grid of one metric, saved all at once;
- csv_files: targets as CSV, out and in (upload, preview, confirm).

The KPI-only pages (drill-down, pipeline waterfall and funnel, recompute, imports) are
kpis.views; the helpers every page shares (who may see which subject, which period a page shows)
are kpis.pages.
"""
