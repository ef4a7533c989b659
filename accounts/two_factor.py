"""Two-factor login for staff (django-otp, TOTP): required for Ops and superusers when DJANGO_PRODUCTION=1.

Anyone with a confirmed TOTP device must give a code when logging in to the admin; Ops and
superusers must have one where OTP_REQUIRED is on (production), and the admin (and the API's session
login) treats them as logged out until they have given it. A device is made by an administrator in
the admin (TOTP devices) or with `manage.py totp_create_device USER`, which prints the otpauth:// URL
to scan into an authenticator app. Codes are throttled by django-otp after each wrong try.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp import devices_for_user, user_has_device
from django_otp.forms import OTPAuthenticationFormMixin

OPS_GROUP = "Ops"  # omnichannel.roles.OPS


def otp_required_for(user) -> bool:
    if not settings.OTP_REQUIRED or not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or user.groups.filter(name=OPS_GROUP).exists()


def otp_missing(request, user) -> bool:
    """True when this user must have given a code in this session and has not."""
    verified = getattr(user, "is_verified", None)
    return otp_required_for(user) and not (verified and verified())


class StaffLoginForm(AdminAuthenticationForm, OTPAuthenticationFormMixin):
    """The admin's login: the password first (django-axes counts wrong ones), then a TOTP code from anyone
    who has a device or must have one."""

    otp_device = forms.CharField(required=False, widget=forms.Select)
    otp_token = forms.CharField(required=False, label="Two-factor code",
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}))
    otp_challenge = forms.CharField(required=False)

    def clean(self):
        self.cleaned_data = super().clean()
        user = self.get_user()
        if user is None:
            return self.cleaned_data
        if otp_required_for(user) and not user_has_device(user, confirmed=True):
            raise forms.ValidationError(
                "Two-factor login is required for this account and it has no authenticator yet: an administrator "
                "makes one with manage.py totp_create_device.", code="otp_device_missing")
        if any(True for _ in devices_for_user(user, confirmed=True)):
            self.clean_otp(user)
        return self.cleaned_data

    def _chosen_device(self, user):
        # One authenticator (the usual case): the code is for it, no device to pick from a list.
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True))
            device = devices[0] if len(devices) == 1 else None
        return device


class StaffAdminSite(AdminSite):
    """The one admin site every app registers on (INSTALLED_APPS names accounts.apps.StaffAdminConfig, whose
    `default_site` this is), with the two-factor login form and permission (see the module's doc)."""

    login_form = StaffLoginForm
    login_template = "otp/admin111/login.html"  # django-otp's admin login: asks for the code once the password is right

    def has_permission(self, request):
        return super().has_permission(request) and not otp_missing(request, request.user)
