"""URL routes: console pages, API, OpenAPI schema, auth, admin."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/analytics/", include("analytics.api.urls")),
    path("api/", include("sessions.api.urls")),
    path("api/", include("operations.api.urls")),
    path("analytics/", include("analytics.urls")),
    path("api/", include("investigation.api.urls")),
    path("api/", include("studio.api.urls")),
    path("", include("investigation.urls")),
    path("", include("studio.urls")),
    path("", include("operations.urls")),
    path("", include("sessions.urls")),
]

handler400 = "luna.errors.bad_request"
