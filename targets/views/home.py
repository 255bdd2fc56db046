"""Home: a manager (or admin) lands on the dashboard, a rep on their scorecard."""

from django.shortcuts import redirect, render

from kpis.pages import login_required
from teams import visibility
from teams.models import Rep


@login_required
def home(request):
    """A manager (or admin) lands on the dashboard, a rep on their scorecard."""
    user = request.user
    if visibility.is_manager(user):
        return redirect("targets:dashboard")
    if Rep.objects.filter(user_id=user.pk).exists():
        return redirect("targets:my_scorecard")
    return render(request, "targets/no_role.html")
