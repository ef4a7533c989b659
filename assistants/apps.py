from django.apps import AppConfig


class AssistantsConfig(AppConfig):
    name = "assistants"

    def ready(self) -> None:
        # App loading: these modules import models, which exist only once the registry is ready.
        from django.conf import settings

        from assistants.erasure import assistants_erase_customer
        from assistants.vectorstore import sentence_vectors, vectorstore_check
        from customers.parts import erasure_part_register
        from faq.vectors import question_embedder_register
        from omnichannel.health import register_check

        register_check("chroma", vectorstore_check)
        from assistants.metrics import metrics_signals_connect

        metrics_signals_connect()  # model_cost_usd_total{model}
        erasure_part_register("assistants", erase=assistants_erase_customer)  # customers may not import us
        # FAQ proposals group questions by the configured embedding backend (faq may not import us).
        question_embedder_register(sentence_vectors, name=lambda: settings.EMBEDDING_BACKEND)
