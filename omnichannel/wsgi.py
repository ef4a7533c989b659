import os

from django.core.wsgi import get_wsgi_application

from omnichannel.env import settings_load_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnichannel.settings")
# 3 is gunicorn's "worker failed to boot": the master stops instead of re-forking workers forever.
settings_load_or_exit(exit_code=3)
application = get_wsgi_application()
