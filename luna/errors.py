"""Error views and log filters: a bad request on the API answers JSON that names the limit it broke."""
import logging

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def _message(exception: Exception | None) -> str:
    if isinstance(exception, RequestDataTooBig):
        return f"The request body is larger than the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes (LUNA_MAX_BODY_BYTES)."
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return "The request has too many fields or files."
    if type(exception) is BadRequest and str(exception):  # raised by a view with a message meant for the user
        return str(exception)
    return "The request could not be understood."


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: JSON `{"detail"}` under /api/, the console's own page elsewhere."""
    message = _message(exception)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return render(request, "400.html", {"message": message}, status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the console's 403 page (role and menu kept), JSON under /api/."""
    message = "The form expired or came from another site (CSRF check failed): reload the page and try again."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)
    return render(request, "403.html", {"exception": message}, status=403)


class ClientErrorsOneLine(logging.Filter):
    """django.request logs every 4xx with the exception's traceback; a 403 or 404 is not a bug: keep one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
