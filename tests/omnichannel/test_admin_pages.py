"""Every model is in the admin, and every admin page of the demo shop renders."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from integrations.demo import seed_demo

pytestmark = pytest.mark.django_db

OUR_APPS = {"omnichannel", "customers", "catalog", "conversations", "faq", "assistants", "integrations"}


def test_every_model_of_our_apps_is_registered_in_the_admin():
    missing = [m._meta.label for m in apps.get_models()
               if m._meta.app_label in OUR_APPS and m._meta.managed is not False and m not in admin.site._registry]
    assert missing == []


def test_every_changelist_and_one_change_page_per_model_render_for_a_superuser(client, django_user_model):
    seed_demo()  # before logging in: it (re)sets the demo accounts' passwords, which ends their sessions
    admin_client = client
    admin_client.force_login(django_user_model.objects.create_superuser("pages-admin", "pages@example.com", "pw"))
    failures = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = admin_client.get(url, follow=True)  # the draft queue redirects to its pending view
        if response.status_code != 200:
            failures.append((url, response.status_code))
            continue
        obj = model_admin.get_queryset(response.wsgi_request).first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            status = admin_client.get(change).status_code
            if status != 200:
                failures.append((change, status))
    assert failures == []
