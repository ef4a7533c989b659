from django.apps import AppConfig


class FaqConfig(AppConfig):
    name = "faq"

    def ready(self) -> None:
        # A customer's erasure reaches the FAQ entries, corrections and proposals naming her (customers/parts.py).
        from customers.parts import erasure_part_register
        from faq.services_erasure import faq_erase_customer

        erasure_part_register("faq", erase=faq_erase_customer)
