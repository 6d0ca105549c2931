"""The exact Spanish messages of docs/api.md#bookings, and the concurrency refusal."""

from guelaguetza.errors import ConcurrentUpdate

EXPERIENCE_NOT_FOUND = "Experiencia no encontrada"
EXPERIENCE_UNAVAILABLE = "Experiencia no disponible"
SLOT_NOT_FOUND = "Horario no encontrado"
BOOKING_NOT_FOUND = "Reservación no encontrada"
SLOT_MISMATCH = "El horario no corresponde a esta experiencia"
SLOT_UNAVAILABLE = "Este horario ya no está disponible"
DUPLICATE_BOOKING = "Ya tienes una reservación activa para este horario"
FORBIDDEN_EDIT = "No tienes permiso para editar esta experiencia"
FORBIDDEN_DELETE = "No tienes permiso para eliminar esta experiencia"
FORBIDDEN_SLOTS_CREATE = "No tienes permiso para crear horarios"
FORBIDDEN_SLOT_DELETE = "No tienes permiso para eliminar este horario"
SLOT_HAS_BOOKINGS = "No puedes eliminar un horario con reservaciones"
SLOT_DUPLICATE = "Ya existe un horario para esa fecha y hora"
FORBIDDEN_VIEW = "No tienes permiso para ver esta reservación"
FORBIDDEN_CONFIRM = "No tienes permiso para confirmar esta reservación"
FORBIDDEN_CANCEL = "No tienes permiso para cancelar esta reservación"
FORBIDDEN_COMPLETE = "No tienes permiso para completar esta reservación"
ALREADY_PROCESSED = "Esta reservación ya fue procesada"
ALREADY_CANCELLED = "Esta reservación ya fue cancelada"
CANNOT_CANCEL_COMPLETED = "No puedes cancelar una reservación completada"
ONLY_CONFIRMED_COMPLETE = "Solo puedes completar reservaciones confirmadas"
REVIEW_NEEDS_COMPLETED = "Solo puedes reseñar experiencias que hayas completado"
REVIEW_DUPLICATE = "Ya has reseñado esta experiencia"
IDEMPOTENCY_MISMATCH = "La clave de idempotencia ya se usó con otra solicitud"
IDEMPOTENCY_KEY_INVALID = "Idempotency-Key inválida"

CONCURRENCY_MESSAGE = (
    "El horario ha sido modificado por otro usuario. Por favor, recarga e intenta nuevamente."
)
SLOT_HINT = "El horario ha sido actualizado. Por favor, recarga los datos e intenta nuevamente."
BOOKING_HINT = (
    "La reservación ha sido actualizada. Por favor, recarga los datos e intenta nuevamente."
)


def concurrency_error(hint: str) -> ConcurrentUpdate:
    """The slot or booking kept changing under us (the API's 409 ConcurrencyError body,
    docs/api.md#post-bookings-bookings)."""
    return ConcurrentUpdate(CONCURRENCY_MESSAGE, hint=hint)
