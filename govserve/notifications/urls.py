from django.urls import path

from govserve.notifications import views

app_name = "notifications"

urlpatterns = [
    path("demo/mail", views.demo_mail, name="demo_mail"),
    path("api/notifications/notify/delivery-receipts", views.notify_callback, name="notify_callback"),
]
