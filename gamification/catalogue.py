"""The canonical badge catalogue (docs/api.md#badges, [F9]): the 16 codes of the original's
``backend/prisma/seed-badges.ts`` plus the ENGAGEMENT badges of this backend's domains.

Used by the data migration and by seed_demo and tests that re-create it after a
``transaction=True`` test truncated the tables. ``metric`` names the count a rule reads.
"""

# (code, name, description, icon, category, xp_reward, threshold, metric)
BADGES: tuple[tuple[str, str, str, str, str, int, int, str | None], ...] = (
    (
        "FIRST_STORY",
        "Primera historia",
        "Comparte tu primera historia",
        "📖",
        "STORIES",
        50,
        1,
        "stories",
    ),
    ("STORIES_10", "Cuentacuentos", "Comparte 10 historias", "📚", "STORIES", 100, 10, "stories"),
    ("STORIES_50", "Cronista", "Comparte 50 historias", "✍️", "STORIES", 250, 50, "stories"),
    (
        "STORIES_100",
        "Guardián de la memoria",
        "Comparte 100 historias",
        "🏛️",
        "STORIES",
        500,
        100,
        "stories",
    ),
    ("FOLLOWERS_10", "Conocido", "Consigue 10 seguidores", "👥", "SOCIAL", 75, 10, "followers"),
    ("FOLLOWERS_50", "Popular", "Consigue 50 seguidores", "🌟", "SOCIAL", 150, 50, "followers"),
    (
        "FOLLOWERS_100",
        "Influyente",
        "Consigue 100 seguidores",
        "💫",
        "SOCIAL",
        300,
        100,
        "followers",
    ),
    (
        "FOLLOWERS_500",
        "Estrella de la Guelaguetza",
        "Consigue 500 seguidores",
        "🌠",
        "SOCIAL",
        750,
        500,
        "followers",
    ),
    (
        "LIKES_100",
        "Querido",
        "Recibe 100 me gusta en tus historias",
        "❤️",
        "ENGAGEMENT",
        100,
        100,
        "likes",
    ),
    (
        "LIKES_500",
        "Adorado",
        "Recibe 500 me gusta en tus historias",
        "💖",
        "ENGAGEMENT",
        300,
        500,
        "likes",
    ),
    (
        "COMMENTS_50",
        "Conversador",
        "Recibe 50 comentarios en tus historias",
        "💬",
        "ENGAGEMENT",
        150,
        50,
        "comments",
    ),
    (
        "FIRST_RSVP",
        "Primera cita",
        "Confirma tu asistencia a un evento",
        "🎟️",
        "ENGAGEMENT",
        25,
        1,
        "rsvps",
    ),
    (
        "RSVPS_10",
        "Fiestero",
        "Confirma tu asistencia a 10 eventos",
        "🎉",
        "ENGAGEMENT",
        100,
        10,
        "rsvps",
    ),
    (
        "FIRST_BOOKING",
        "Primera experiencia",
        "Completa tu primera experiencia",
        "🧭",
        "ENGAGEMENT",
        50,
        1,
        "bookings",
    ),
    ("BOOKINGS_5", "Explorador", "Completa 5 experiencias", "🗺️", "ENGAGEMENT", 150, 5, "bookings"),
    ("FIRST_REVIEW", "Crítico", "Escribe tu primera reseña", "⭐", "ENGAGEMENT", 25, 1, "reviews"),
    (
        "STREAK_7",
        "Semana de fiesta",
        "Visita la app 7 días seguidos",
        "🔥",
        "STREAK",
        100,
        7,
        "streak",
    ),
    (
        "STREAK_30",
        "Mes guelaguetzero",
        "Visita la app 30 días seguidos",
        "🌶️",
        "STREAK",
        300,
        30,
        "streak",
    ),
    (
        "STREAK_100",
        "Oaxaqueño de corazón",
        "Visita la app 100 días seguidos",
        "🏆",
        "STREAK",
        1000,
        100,
        "streak",
    ),
    (
        "GUELAGUETZA_2024",
        "Guelaguetza 2024",
        "Participaste en la Guelaguetza 2024",
        "🎭",
        "SPECIAL",
        200,
        1,
        None,
    ),
    (
        "EARLY_ADOPTER",
        "Pionero",
        "De los primeros en unirse a Guelaguetza Connect",
        "🚀",
        "SPECIAL",
        100,
        1,
        None,
    ),
)

RULE_METRIC: dict[str, str | None] = {row[0]: row[7] for row in BADGES}

# Unknown codes (a badge added in the admin): STORIES by stories, SOCIAL by followers,
# any other category never automatically (docs/api.md#badges).
CATEGORY_FALLBACK_METRIC: dict[str, str] = {"STORIES": "stories", "SOCIAL": "followers"}


def ensure_catalogue(badge_model) -> int:
    """Create the missing catalogue badges (idempotent; existing rows are left as edited).
    Returns how many it created: bulk_create fires no post_save, so a caller outside a
    migration clears the cached catalogue itself when that is not 0."""
    existing = set(badge_model.objects.values_list("code", flat=True))
    created = badge_model.objects.bulk_create(
        [
            badge_model(
                code=code,
                name=name,
                description=description,
                icon=icon,
                category=category,
                xp_reward=xp_reward,
                threshold=threshold,
            )
            for code, name, description, icon, category, xp_reward, threshold, _ in BADGES
            if code not in existing
        ]
    )
    return len(created)
