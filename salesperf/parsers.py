"""The API's request parsers (settings.REST_FRAMEWORK). Apart from salesperf.api, which the
parsers setting would otherwise import while DRF's views are still loading."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's, and JSON nested too deep for Python's parser is a 400 like any malformed body."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
