"""bench_kpis and bench_pages: the measurements behind docs/performance.md."""
