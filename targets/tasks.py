from celery import shared_task
from django.utils import timezone

from . import alerts, digest, services

DAILY = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "max_retries": 3,
    "soft_time_limit": 10 * 60,
    "time_limit": 12 * 60,
}


@shared_task(name="targets.check_alerts", **DAILY)
def check_alerts():
    """Daily (Celery beat): relative targets follow their running baselines, then notice
    targets that have just fallen behind or been hit."""
    today = timezone.localdate()
    services.target_follow_baselines(today=today)
    alerts.check_targets(today=today)


@shared_task(name="targets.send_weekly_digests", **DAILY)
def send_weekly_digests():
    """Weekly (Celery beat, Mondays): every manager's e-mail digest (targets.digest)."""
    digest.send_weekly_digests(today=timezone.localdate())
