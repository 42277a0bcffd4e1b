from django.urls import path

from vouchers import api

app_name = "station_api"

urlpatterns = [
    path("redeem", api.redeem, name="redeem"),
]
