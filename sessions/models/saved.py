"""Saved searches: a name for a search URL's query string, per user (the console lists them on the search page)."""
from django.conf import settings
from django.db import models


class SavedSearch(models.Model):
    """A user's named search; the query string is replayed as-is, so every filter the page has is saved."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=2000, blank=True, help_text="The search page's query string, without '?'.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "luna_saved_search"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="luna_saved_search_unique")]

    def __str__(self) -> str:
        return self.name
