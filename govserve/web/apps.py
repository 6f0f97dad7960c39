from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "govserve.web"
    label = "web"
    default_auto_field = "django.db.models.BigAutoField"
