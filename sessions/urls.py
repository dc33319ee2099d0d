"""Console routes."""
from django.urls import path

from . import views

app_name = "sessions"
urlpatterns = [
    path("", views.SessionSearchView.as_view(), name="search"),
    path("sessions/export.csv", views.SessionExportView.as_view(), name="export"),
    path("searches/", views.SavedSearchCreateView.as_view(), name="saved_search_create"),
    path("searches/<int:pk>/delete/", views.SavedSearchDeleteView.as_view(), name="saved_search_delete"),
    path("sessions/<int:pk>/", views.SessionDetailView.as_view(), name="detail"),
    path("templates/", views.TemplateListView.as_view(), name="templates"),
    path("templates/import/", views.TemplateImportView.as_view(), name="template_import"),
    path("templates/<str:name>/", views.TemplateDetailView.as_view(), name="template"),
    path("templates/<str:name>/export/", views.TemplateExportView.as_view(), name="template_export"),
    path("templates/<str:name>/report/", views.TemplateReportRefreshView.as_view(), name="template_report"),
    path("templates/<str:name>/dead-letters/", views.DeadLetterListView.as_view(), name="dead_letters"),
]
