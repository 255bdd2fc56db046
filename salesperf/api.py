"""The API's project-wide plumbing, used by every app's API module: the viewsets every
resource builds on, pagination and ordering, how errors are answered, and the OpenAPI hook that
documents those errors.

Every resource is a `ScopedViewSet` over its model's `queryset`, narrowed once by the model's
`visible_to(user)` (teams.querysets): list, detail, update, delete and every filter start from
it, so a row the user may not see is a 404 and a filter naming it matches nothing. `may_write`
is the role that may write the resource at all; which rows a write may point at is decided by
the serializers' `VisibleRelatedField`, so a write can never leave the user's own view.
"""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, views, viewsets
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.settings import api_settings

from teams import visibility


def field_errors(exc: DjangoValidationError) -> dict:
    """A Django ValidationError as DRF reports errors: messages by field, `non_field_errors`."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return {
        api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: messages
        for field, messages in exc.message_dict.items()
    }


def is_signed_in(user) -> bool:
    """Anyone signed in; what they may point a write at is still limited to what they see."""
    return bool(user.is_authenticated)


def exception_handler(exc, context):
    """DRF's, and a Django ValidationError (a model's or a service's) is a 400 with field errors;
    a body over Django's upload limits an error in JSON, like any other, not Django's HTML page."""
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(field_errors(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge(f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.")
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = ParseError(str(exc))
    return views.exception_handler(exc, context)


class BodyTooLarge(APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


class Conflict(APIException):
    status_code = 409
    default_detail = "Other records still refer to this one."
    default_code = "conflict"


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500
    page_size_query_description = (
        f"Results per page: {api_settings.PAGE_SIZE} unless given, at most {max_page_size}."
    )

    def get_page_size(self, request):
        """As asked (more than the most: the most), or a 400 naming `page_size` when it is not a
        whole number from 1 up — DRF quietly sends its default for `page_size=null` or `-1`."""
        asked = request.query_params.get(self.page_size_query_param, "")
        if not asked:
            return self.page_size
        try:
            size = int(asked)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"'{asked}' is not a number of rows: give a whole number from 1."
                    ]
                }
            )
        return min(size, self.max_page_size)


class StableOrderingFilter(OrderingFilter):
    """Orders as asked, then by id, so that pages of a list neither overlap nor skip rows."""

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Sort by {', '.join(f'`{f}`' for f in view.ordering_fields)}: comma-separated, "
                    f"`-` before a field for descending. Default: `{','.join(view.ordering)}`."
                ),
                "schema": {"type": "string"},
            }
        ]

    def remove_invalid_fields(self, queryset, fields, view, request):
        """The fields asked for, or a 400 naming those it cannot sort by (DRF drops them silently)."""
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        unknown = [field for field in fields if field and field not in valid]
        if unknown:
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot sort by {', '.join(unknown)}: use {', '.join(view.ordering_fields)}, "
                        "with `-` before a field for descending."
                    ]
                }
            )
        return valid

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not {"id", "-id", "pk", "-pk"} & set(ordering):
            descending = bool(ordering) and ordering[0].startswith("-")
            ordering.append("-id" if descending else "id")
        return ordering


class MayWrite(BasePermission):
    """Reading needs a signed-in user (IsAuthenticated); writing also the view's `may_write`."""

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or view.may_write(request.user)


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """A model's list and detail: `queryset`, as far as the user may see it."""

    permission_classes = [IsAuthenticated]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering = ["id"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


CONFLICTING_WRITE = "This change conflicts with other records; reload and retry."


class ScopedViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedReadOnlyViewSet
):
    """…and create, update, delete for users that `may_write(user)`, within what they see."""

    may_write = staticmethod(visibility.is_admin)
    permission_classes = [IsAuthenticated, MayWrite]

    def perform_create(self, serializer):
        self.save(serializer)

    def perform_update(self, serializer):
        self.save(serializer)

    def save(self, serializer):
        # Validation already ran full_clean; this catches what only the database knows (a row
        # written concurrently), in a savepoint so the request's transaction stays usable. A
        # subclass may save through a service instead: its Django ValidationError is a 400 too
        # (exception_handler).
        try:
            with transaction.atomic():
                serializer.save()
        except IntegrityError:
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [CONFLICTING_WRITE]}) from None

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                instance.delete()
        except (ProtectedError, RestrictedError) as exc:
            rows = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
            kinds = sorted({str(type(row)._meta.verbose_name_plural) for row in rows})
            raise Conflict(f"Cannot delete: {', '.join(kinds)} still refer to it.") from None
        except IntegrityError:
            raise Conflict() from None


# --- OpenAPI: the errors every operation may answer with (a drf-spectacular postprocessing hook)

ERROR = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
FIELD_ERRORS = {
    "type": "object",
    "description": "Messages by field or query parameter; `non_field_errors` for the whole object.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
BAD_REQUEST = {
    "description": "Messages by field (FieldErrors), or one `detail` when the body cannot be read at all.",
    "oneOf": [{"$ref": "#/components/schemas/FieldErrors"}, {"$ref": "#/components/schemas/Error"}],
}
ERRORS = {
    "400": ("BadRequest", "Invalid input: messages by field or query parameter, or an unreadable body."),
    "401": ("Error", "Not signed in: no session and no valid `Authorization: Token <key>` header."),
    "403": ("Error", "Not allowed: your role may not write this, or a session write lacks its CSRF token."),
    "404": ("Error", "Not found among the rows you may see (or no such page)."),
    "409": ("Error", "Cannot delete: other records still refer to it."),
    "413": ("Error", "The request body is over the size limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB)."),
    "429": ("Error", "Too many requests; retry after `Retry-After` seconds."),
}


def error_codes(path: str, method: str, operation: dict) -> list[str]:
    params = {p["name"] for p in operation.get("parameters", [])}
    codes = ["429"]
    if {} not in operation.get("security", [{}]):  # not open to anonymous callers
        codes += ["401", "403"]
    if method in {"post", "put", "patch"} or (method == "get" and params - {"id", "key"}):
        codes.append("400")
    if "{" in path or "page" in params:
        codes.append("404")
    if method in {"post", "put", "patch"}:
        codes.append("413")
    if method == "delete":
        codes.append("409")
    return codes


def document_errors(result, generator, request, public):
    """Adds the errors of `error_codes` to every operation, and a body to any error a view
    documented with a description only (extend_schema(responses={404: OpenApiResponse(...)}))."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("FieldErrors", FIELD_ERRORS)
    schemas.setdefault("BadRequest", BAD_REQUEST)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in [*error_codes(path, method, operation), *(c for c in list(responses) if c in ERRORS)]:
                component, description = ERRORS[code]
                response = responses.setdefault(code, {"description": description})
                response.setdefault(
                    "content", {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}}
                )
    return result
