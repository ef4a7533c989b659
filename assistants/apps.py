from django.apps import AppConfig


class AssistantsConfig(AppConfig):
    name = "assistants"

    def ready(self) -> None:
        from assistants.vectorstore import vectorstore_check
        from omnichannel.health import register_check

        register_check("chroma", vectorstore_check)
