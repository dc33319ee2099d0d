"""OpenAPI generation: every operation documents the error answers it can give, so clients (and the schemathesis
run in tests/test_api_fuzz.py) know every status code: bad input, no login, no role, not found, wrong media type."""
from drf_spectacular.openapi import AutoSchema

ERROR_BODY = {
    "type": "object",
    "description": "`detail` for most errors; a field → messages map, or `errors`, for invalid input.",
    "additionalProperties": True,
}
ERRORS = {
    "400": "Invalid input: the message says which parameter or field, and why.",
    "401": "Not signed in (token or session authentication).",
    "403": "Signed in, but the role does not allow this (or the CSRF token is missing).",
    "404": "No such object, or a page past the last one.",
}
BODY_ERRORS = {"415": "The body is not JSON (application/json)."}


class LunaAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = ERRORS | (BODY_ERRORS if self.method in ("POST", "PUT", "PATCH") else {})
        for code, description in errors.items():
            responses.setdefault(code, {"description": description, "content": {"application/json": {"schema": ERROR_BODY}}})
        return responses
