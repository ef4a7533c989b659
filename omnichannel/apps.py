from django.apps import AppConfig


class OmnichannelConfig(AppConfig):
    name = "omnichannel"

    def ready(self) -> None:
        # App loading (models exist only once the registry is ready). Connect the Celery signal
        # handlers that carry correlation ids.
        from django.db.models.signals import post_migrate

        from omnichannel import correlation, tasks  # noqa: F401  (tasks: the dead-letter and failure-count handlers)
        from omnichannel.roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="omnichannel.roles_sync")

        from omnichannel.auth_backends import connect_signals

        connect_signals()  # a change of who holds which permission invalidates the cached sets
