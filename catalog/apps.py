from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        # A customer's erasure and her data export reach her product requests (customers/parts.py).
        from catalog.services_erasure import catalog_erase_customer, catalog_export_customer
        from customers.parts import erasure_part_register, export_part_register

        erasure_part_register("catalog", erase=catalog_erase_customer)
        export_part_register("catalog", catalog_export_customer)
