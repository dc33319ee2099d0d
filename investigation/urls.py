"""Investigation routes (console)."""
from django.urls import path, re_path

from . import views

app_name = "investigation"
urlpatterns = [
    path("cases/", views.CaseQueueView.as_view(), name="queue"),
    path("sessions/compare/", views.CompareView.as_view(), name="compare"),
    path("sql/", views.AdhocSqlView.as_view(), name="sql"),
    re_path(r"^sessions/(?P<pk>\d+)/case/(?P<action>assign|status|comment|verdict|merge|keep)/$", views.CaseActionView.as_view(),
            name="case_action"),
]
