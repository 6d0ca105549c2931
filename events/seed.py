"""seed_demo's events step: festival events of every category over the festival's July
(the next one not over, or ``--festival-year``, an option of the experiences step), the
Guelaguetza month, ``--events N`` of them (default 60).

Deterministic (a fixed random seed), so a second run generates the same titles and adds
only those missing: idempotent. Bulk inserts fire no post_save, so the lists and the new
events' detail keys are invalidated explicitly at the end.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from tqdm import tqdm

from events.models import Event, EventCategory
from guelaguetza.cache import cache, keys
from guelaguetza.festival import festival_year

BATCH = 1000
FESTIVAL_TZ = ZoneInfo("America/Mexico_City")

VENUES = [
    ("Auditorio Guelaguetza, Cerro del Fortín", 17.0697, -96.7331),
    ("Zócalo de Oaxaca", 17.0607, -96.7253),
    ("Andador Turístico (Macedonio Alcalá)", 17.0654, -96.7236),
    ("Templo de Santo Domingo de Guzmán", 17.0659, -96.7234),
    ("Mercado 20 de Noviembre", 17.0584, -96.7267),
    ("Jardín Etnobotánico de Oaxaca", 17.0651, -96.7222),
    ("Plaza de la Danza", 17.0610, -96.7294),
    ("Teotitlán del Valle", 17.0306, -96.5190),
]

TITLES = {
    EventCategory.DANZA: [
        "Danza de la Pluma",
        "Flor de Piña",
        "Jarabe Mixteco",
        "Son y Jarabe de Ejutla",
        "Danza de los Diablos",
    ],
    EventCategory.MUSICA: [
        "Banda de Música de Tlaxiaco",
        "Noche de Sones Istmeños",
        "Concierto de Marimba",
        "Orquesta Primavera",
    ],
    EventCategory.GASTRONOMIA: [
        "Feria del Mezcal",
        "Muestra de Moles Oaxaqueños",
        "Feria del Tejate",
        "Taller de Tlayudas",
    ],
    EventCategory.ARTESANIA: [
        "Expo Barro Negro",
        "Textiles de Teotitlán",
        "Alebrijes de San Martín Tilcajete",
    ],
    EventCategory.CEREMONIA: [
        "Elección de la Diosa Centéotl",
        "Bani Stui Gulal",
        "Ofrenda al Cerro del Fortín",
    ],
    EventCategory.DESFILE: ["Convite de las Delegaciones", "Calenda de la Guelaguetza"],
    EventCategory.OTRO: ["Velada Cultural", "Lectura de Poesía Zapoteca"],
}

OFFICIAL = {EventCategory.CEREMONIA, EventCategory.DESFILE}


def add_arguments(parser) -> None:
    parser.add_argument("--events", type=int, default=60, help="festival events to seed over July")


def build_events(count: int, *, year: int, seed: int = 2026) -> list[Event]:
    """``count`` unsaved events: categories in turn (all seven appear from 7 events on),
    days spread over July of ``year`` in festival-local time (an evening of July 31 is August 1
    in UTC), unique titles."""
    rng = random.Random(seed)
    categories = list(EventCategory)
    events = []
    for i in range(count):
        category = categories[i % len(categories)]
        names = TITLES[category]
        turn = i // len(categories)
        base = names[turn % len(names)]
        edition = turn // len(names)
        title = f"{base} · Guelaguetza {year}" + (f" ({edition + 1})" if edition else "")
        day = 1 + (i * 30) // max(count - 1, 1)  # July 1 to July 31
        local = dt.datetime(year, 7, day, rng.randint(9, 21), rng.choice((0, 30)))
        start = local.replace(tzinfo=FESTIVAL_TZ).astimezone(dt.UTC)
        venue, lat, lon = rng.choice(VENUES)
        # Ceremonies and parades are the official programme, and every other dance
        # (the delegations' performances at the Auditorio); the rest is fringe.
        official = category in OFFICIAL or (category == EventCategory.DANZA and turn % 2 == 0)
        events.append(
            Event(
                title=title,
                description=f"{base}: parte del programa de la Guelaguetza {year} en Oaxaca.",
                image_url=f"https://picsum.photos/seed/guelaguetza-{i}/800/600",
                location=venue,
                latitude=lat,
                longitude=lon,
                start_date=start,
                end_date=start + dt.timedelta(hours=rng.randint(1, 4)),
                category=category,
                is_official=official,
            )
        )
    return events


def run(*, options: dict, stdout) -> None:
    year = options.get("festival_year") or festival_year()
    wanted = build_events(max(0, int(options.get("events") or 60)), year=year)
    existing = set(
        Event.objects.filter(title__in=[e.title for e in wanted]).values_list("title", flat=True)
    )
    missing = [e for e in wanted if e.title not in existing]
    created: list[Event] = []
    # disable=None: the bar shows on a terminal only (seed_demo --no-progress forces it off).
    bar = tqdm(
        total=len(missing),
        desc="events",
        unit="event",
        disable=options.get("no_progress") or None,
    )
    for offset in range(0, len(missing), BATCH):
        batch = Event.objects.bulk_create(missing[offset : offset + BATCH])
        created += batch
        bar.update(len(batch))
    bar.close()
    stdout.write(f"events: {len(created)} created, {len(existing)} already present")
    if created:
        # bulk_create sends no post_save: clear what the Event receiver would have.
        cache.invalidate("events:list:*")
        cache.delete_many(keys.event_detail(event_id=e.id) for e in created)
