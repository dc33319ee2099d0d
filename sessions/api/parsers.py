"""The API's JSON parser: the strict document rules (no NaN, bounded depth, valid Unicode) as a 400, never a 500."""
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from ..services import json_documents


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json_documents.loads(stream.read() if stream is not None else b"")
        except json_documents.DocumentError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
