"""Writes of style profiles (the brand's voice, or one agent's): checked, audited, in one place.

`tone_config` is read by the drafters (assistants/providers/grounded.py `style_apply`): a greeting
with `{first_name}`, a sign-off, a tone word and phrases never to send. A typo in a key would be
silently ignored there, so only these keys are accepted, each with its type.
"""

from __future__ import annotations

from django.db import transaction

from assistants.models import StyleProfile
from omnichannel.audit import audit_log_write
from omnichannel.errors import ApplicationError

TONE_KEYS = {"greeting": str, "sign_off": str, "tone": str, "banned_phrases": list}


def style_tone_config_check(tone_config) -> dict:
    """The config as given, or ApplicationError naming the key that is wrong."""
    if tone_config in (None, ""):
        return {}
    if not isinstance(tone_config, dict):
        raise ApplicationError('tone_config must be an object, e.g. {"greeting": "Hi {first_name},"}')
    unknown = sorted(set(tone_config) - set(TONE_KEYS))
    if unknown:
        raise ApplicationError(f"tone_config: unknown key(s) {', '.join(unknown)}; the drafters read "
                               f"{', '.join(TONE_KEYS)}")
    for key, kind in TONE_KEYS.items():
        value = tone_config.get(key)
        if value is not None and not isinstance(value, kind):
            raise ApplicationError(f"tone_config: {key} must be {'a list of phrases' if kind is list else 'text'}")
    if not all(isinstance(p, str) for p in tone_config.get("banned_phrases") or []):
        raise ApplicationError("tone_config: banned_phrases must be a list of phrases (texts)")
    return tone_config


_FIELDS = ("name", "owner_user_id", "tone_config", "is_brand_default")


@transaction.atomic
def style_profile_save(*, name: str, tone_config: dict | None = None, owner_user_id: int | None = None,
                       is_brand_default: bool = False, profile_id: int | None = None,
                       acting_user=None) -> StyleProfile:
    """Create a profile, or change one (`profile_id`)."""
    wanted = {"name": name.strip(), "owner_user_id": owner_user_id, "tone_config": style_tone_config_check(tone_config),
              "is_brand_default": is_brand_default}
    profile = StyleProfile.objects.select_for_update().get(pk=profile_id) if profile_id else StyleProfile()
    changed = [field for field in _FIELDS if getattr(profile, field) != wanted[field]] if profile_id else list(_FIELDS)
    if profile_id and not changed:
        return profile
    for field in changed:
        setattr(profile, field, wanted[field])
    profile.full_clean()
    profile.save()
    audit_log_write(event_type="style_profile.edited" if profile_id else "style_profile.created",
                    acting_user=acting_user, obj=profile,
                    payload={"fields": [f.removesuffix("_id") for f in changed], "is_brand_default": is_brand_default})
    return profile


@transaction.atomic
def style_profile_delete(*, profile_id: int, acting_user=None) -> None:
    profile = StyleProfile.objects.select_for_update().get(pk=profile_id)
    audit_log_write(event_type="style_profile.deleted", acting_user=acting_user, obj=profile,
                    payload={"name": profile.name, "is_brand_default": profile.is_brand_default})
    profile.delete()
