"""The admin's answer to a write a service refuses: its message on the page, not a 500.

Admin saves, deletes and actions go through the same services as the API, so they meet
the same domain errors (guelaguetza/errors.py) and Django ValidationErrors. The API
maps those to status codes (guelaguetza/api/errors.py); the admin shows their Spanish
text with ``messages.error`` and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.http import HttpResponseRedirect

from guelaguetza.errors import DomainError

REFUSALS = (DomainError, ValidationError)


def refusal_message(exc: DomainError | ValidationError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(exc.messages)


class RefusalsAsMessages:
    """A ModelAdmin mixin: a refusal raised by a save, a delete or an action becomes an
    error message on the page the staff member was on (reloaded).

    The refused write's transaction rolls back with it: forms and deletes run in the
    admin's own atomic block, and actions here get one, so neither the data nor the
    admin's log shows a write that did not happen (an action is all or nothing).
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except REFUSALS as exc:
            return self._refused(request, exc)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except REFUSALS as exc:
            return self._refused(request, exc)

    def response_action(self, request, queryset):
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().response_action(request, queryset)
        except REFUSALS as exc:
            return self._refused(request, exc)

    def _refused(self, request, exc: DomainError | ValidationError) -> HttpResponseRedirect:
        self.message_user(request, refusal_message(exc), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())
