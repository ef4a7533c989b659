from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, whose `admin.site` is the two-factor one (Django's documented way to replace it)."""

    default = False  # named explicitly in INSTALLED_APPS; AccountsConfig stays this module's default
    default_site = "accounts.two_factor.StaffAdminSite"
