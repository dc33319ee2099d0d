"""What other domains hear from this one, so `sessions` never imports them.

`version_saved` is sent after a new template version is stored (outside its transaction). A receiver returns
the notes an operator should see (e.g. job operations: "hot update applied" or "needs a restart"); the save
collects them in `SaveResult.rollout`.
"""
from django.dispatch import Signal

version_saved = Signal()  # kwargs: version (TemplateVersion); a receiver returns an iterable of note strings
