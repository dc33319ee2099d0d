"""Studio routes (console)."""
from django.urls import path, re_path

from . import backtest_views, views

app_name = "studio"
urlpatterns = [
    path("studio/", views.DraftListView.as_view(), name="drafts"),
    path("studio/drafts/<int:pk>/", views.StudioWizard.as_view(), name="wizard"),
    path("studio/drafts/<int:pk>/dry-run/", views.DryRunFragmentView.as_view(), name="dry_run"),
    path("studio/proposals/", views.ProposalListView.as_view(), name="proposals"),
    path("studio/proposals/<int:pk>/", views.ProposalView.as_view(), name="proposal"),
    re_path(r"^studio/proposals/(?P<pk>\d+)/(?P<action>approve|reject|activate|restart)/$", views.ProposalView.as_view(),
            name="proposal_action"),
    path("studio/audit/", views.AuditView.as_view(), name="audit"),
    path("studio/drafts/<int:pk>/backtest/", backtest_views.BacktestRequestView.as_view(), name="backtest_request"),
    path("studio/backtests/<int:pk>/", backtest_views.BacktestView.as_view(), name="backtest"),
    path("studio/backtests/<int:pk>/sessions/<int:index>/", backtest_views.BacktestSessionView.as_view(), name="backtest_session"),
    path("studio/templates/<str:name>/versions/", views.VersionsView.as_view(), name="versions"),
]
