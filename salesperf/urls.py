from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from teams import accounts, login

from . import views
from .csp import with_inline_styles

handler404 = views.not_found

# The admin's login counts failed sign-ins with the others (teams.login).
admin.site.login_form = login.AdminLoginForm

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", login.LoginView.as_view(next_page="targets:home"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("accounts/token/", accounts.api_token, name="api_token"),
    path("accounts/password/change/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/", accounts.PasswordResetDoneView.as_view(), name="password_reset_done"
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("api/v1/", include("salesperf.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its setup script served as a file (the split view), not inline; its page keeps an inline <style>.
    path(
        "api/docs/",
        with_inline_styles(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path("", include("kpis.urls")),
    path("", include("targets.urls")),
]
