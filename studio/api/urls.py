"""API routes: /api/studio/drafts/, check/, samples/, tree/, proposals/, audit/, backtests/, rollback/."""
from rest_framework.routers import DefaultRouter

from . import backtests, review, views

router = DefaultRouter()
router.register("studio/drafts", views.DraftViewSet, basename="studio-draft")
router.register("studio/proposals", review.ProposalViewSet, basename="studio-proposal")
router.register("studio/audit", review.AuditViewSet, basename="studio-audit")
router.register("studio/backtests", backtests.BacktestViewSet, basename="studio-backtest")
router.register("studio/versions", review.VersionViewSet, basename="studio-version")
router.register("studio/rollback", review.RollbackViewSet, basename="studio-rollback")
router.register("studio", views.StudioViewSet, basename="studio")

urlpatterns = router.urls
