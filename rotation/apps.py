from django.apps import AppConfig


class RotationConfig(AppConfig):
    """Credential Leak: the Supabase service-role key rotation saga (its own app; the tables
    keep their incidents_… names)."""

    name = "rotation"
    label = "rotation"
    verbose_name = "Key rotation"

    def ready(self) -> None:
        # Imported here, not at module level: the actions use models, which Django loads
        # only after every AppConfig is imported. Importing registers them with the
        # incidents engine's registry (the engine never imports rotation).
        from rotation import actions  # noqa: F401
