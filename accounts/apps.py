from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Cuentas"

    def ready(self) -> None:
        from accounts import schema, signals  # noqa: F401  (schema registers the extension)
        from accounts.models import User

        post_save.connect(signals.user_saved, sender=User, dispatch_uid="accounts.user_saved")
        post_delete.connect(signals.user_deleted, sender=User, dispatch_uid="accounts.user_deleted")
