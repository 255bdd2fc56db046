"""The notification centre: the list (newest first, unread marked), mark as read, and the
per-user mute settings. Reads and writes are targets.notifications'."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kpis.pages import login_required

from .. import notifications as centre
from ..models import AlertSettings

PAGE_SIZE = 30


@login_required
def notification_list(request):
    page = Paginator(centre.notifications_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "targets/notifications.html",
        {"page": page, "rows": [(n, centre.link_of(n)) for n in page], "nav": "notifications"},
    )


@login_required
@require_POST
def notification_read(request, pk: int | None = None):
    """Marks one as read (and opens its page, when asked to) or all of them."""
    centre.notification_mark_read(user=request.user, pk=pk)
    then = request.POST.get("next", "")
    if then and url_has_allowed_host_and_scheme(then, allowed_hosts={request.get_host()}):
        return redirect(then)
    return redirect("targets:notifications")


class AlertSettingsForm(forms.ModelForm):
    class Meta:
        model = AlertSettings
        fields = ["behind", "hit", "email", "weekly_digest"]


@login_required
def alert_settings(request):
    form = AlertSettingsForm(request.POST or None, instance=centre.settings_of(request.user))
    if request.method == "POST" and form.is_valid():
        centre.alert_settings_save(user=request.user, **form.cleaned_data)
        messages.success(request, "Alert settings saved.")
        return redirect("targets:alert_settings")
    return render(request, "targets/alert_settings.html", {"form": form, "nav": "notifications"})
