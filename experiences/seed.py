"""seed_demo's experiences step: ``--experiences N`` (default 20) experiences in every
category, hosted by the demo host (artesano@guelaguetza.mx) and a few seeded hosts, with
slots over the festival weeks (13-31 July).

The festival year is ``--festival-year``, by default the next festival whose weeks have
not passed yet (July 2026 until then): bookings reject past slots [F15], so a demo with
only past slots could not book anything.

Deterministic titles make it idempotent: a second run adds only what is missing (slots
through the unique (experience, date, startTime) index). Bulk inserts fire no
post_save, so the lists and every touched experience's namespace are invalidated
explicitly at the end.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from tqdm import tqdm

from accounts.models import User
from experiences.models import Experience, ExperienceCategory, ExperienceTimeSlot
from guelaguetza.cache import cache
from guelaguetza.festival import festival_year

BATCH = 2000
DEMO_HOST = "artesano@guelaguetza.mx"
EXTRA_HOSTS = [
    ("anfitriona.teotitlan@guelaguetza.mx", "Guadalupe", "Ruiz"),
    ("anfitrion.mezcal@guelaguetza.mx", "José", "Santiago"),
    ("anfitriona.cocina@guelaguetza.mx", "Rosa", "Martínez"),
]
FESTIVAL_DAYS = range(13, 32)  # the weeks of the two Lunes del Cerro
SLOT_TIMES = ((dt.time(10), dt.time(12)), (dt.time(17), dt.time(19)))

CATALOGUE = {
    ExperienceCategory.TOUR: [
        ("Ruta del Mezcal en Santiago Matatlán", "Santiago Matatlán", 16.8636, -96.3825),
        ("Recorrido por Monte Albán al amanecer", "Monte Albán", 17.0436, -96.7677),
        ("Hierve el Agua y sus cascadas petrificadas", "San Lorenzo Albarradas", 16.8656, -96.2760),
    ],
    ExperienceCategory.TALLER: [
        ("Taller de barro negro", "San Bartolo Coyotepec", 16.9597, -96.7081),
        ("Telar de pedal en Teotitlán", "Teotitlán del Valle", 17.0306, -96.5190),
        ("Pinta tu alebrije", "San Martín Tilcajete", 16.8636, -96.6951),
    ],
    ExperienceCategory.DEGUSTACION: [
        ("Cata de mezcales ancestrales", "Centro Histórico, Oaxaca", 17.0654, -96.7236),
        ("Chocolate de metate y tejate", "Mercado 20 de Noviembre", 17.0584, -96.7267),
    ],
    ExperienceCategory.CLASE: [
        ("Clase de cocina: los siete moles", "Centro Histórico, Oaxaca", 17.0610, -96.7250),
        ("Clase de danza: Flor de Piña", "Plaza de la Danza", 17.0610, -96.7294),
    ],
    ExperienceCategory.VISITA: [
        ("Visita al Jardín Etnobotánico", "Santo Domingo, Oaxaca", 17.0651, -96.7222),
        ("Visita a un palenque familiar", "Santa Catarina Minas", 16.7800, -96.6300),
    ],
}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--experiences", type=int, default=20, help="experiences to seed (total, all categories)"
    )
    parser.add_argument(
        "--festival-year", type=int, default=None, help="year of the slots (default: next July)"
    )


def _hosts(stdout) -> list[User]:
    password = make_password("password123")
    User.objects.bulk_create(
        [User(email=e, nombre=n, apellido=a, password=password) for e, n, a in EXTRA_HOSTS],
        ignore_conflicts=True,
    )
    emails = [DEMO_HOST, *(e for e, _, _ in EXTRA_HOSTS)]
    by_email = {u.email: u for u in User.objects.filter(email__in=emails)}
    if DEMO_HOST not in by_email:
        stdout.write(f"experiences: {DEMO_HOST} missing (run the accounts seed first)")
    return [by_email[e] for e in emails if e in by_email]


def build_experiences(count: int, hosts: list[User], *, seed: int = 2026) -> list[Experience]:
    """``count`` unsaved experiences: categories in turn, the demo host every other one."""
    rng = random.Random(seed)
    categories = list(ExperienceCategory)
    out = []
    for i in range(count):
        category = categories[i % len(categories)]
        turn = i // len(categories)
        options = CATALOGUE[category]
        title, location, lat, lon = options[turn % len(options)]
        edition = turn // len(options)
        title = title + (f" ({edition + 1})" if edition else "")
        capacity = rng.choice((6, 8, 10, 12, 15))
        out.append(
            Experience(
                host=hosts[0] if i % 2 == 0 else hosts[i % len(hosts)],
                title=title,
                description=f"{title}: una experiencia de la Guelaguetza con gente de {location}.",
                image_url=f"https://picsum.photos/seed/experiencia-{i}/800/600",
                images=[f"https://picsum.photos/seed/experiencia-{i}-{k}/800/600" for k in (1, 2)],
                category=category,
                price=Decimal(rng.choice((250, 350, 450, 600, 850, 1200))),
                duration=rng.choice((90, 120, 180, 240)),
                max_capacity=capacity,
                location=location,
                latitude=lat,
                longitude=lon,
                includes=["Materiales", "Bebida tradicional"][: 1 + i % 2],
                languages=["Español", "English"] if i % 3 else ["Español", "Zapoteco"],
            )
        )
    return out


def run(*, options: dict, stdout) -> None:
    hosts = _hosts(stdout)
    if not hosts:
        return
    wanted = build_experiences(max(0, int(options.get("experiences") or 20)), hosts)
    existing = {
        (h, t): pk
        for h, t, pk in Experience.objects.filter(title__in=[e.title for e in wanted]).values_list(
            "host_id", "title", "pk"
        )
    }
    missing = [e for e in wanted if (e.host_id, e.title) not in existing]
    created = Experience.objects.bulk_create(missing, batch_size=BATCH)
    stdout.write(f"experiences: {len(created)} created, {len(wanted) - len(created)} present")

    year = options.get("festival_year") or festival_year()
    touched = [*created, *Experience.objects.filter(pk__in=existing.values())]
    slots = [
        ExperienceTimeSlot(
            experience=e,
            date=dt.date(year, 7, day),
            start_time=start,
            end_time=end,
            capacity=e.max_capacity,
        )
        for e in touched
        for day in FESTIVAL_DAYS[:: 1 + len(e.title) % 2]
        for start, end in SLOT_TIMES
    ]
    before = ExperienceTimeSlot.objects.filter(experience__in=touched).count()
    # The unique (experience, date, startTime) index makes a rerun add nothing twice.
    # disable=None: the bar shows on a terminal only (seed_demo --no-progress forces it off).
    bar = tqdm(
        total=len(slots),
        desc="experiences: slots",
        unit="slot",
        disable=options.get("no_progress") or None,
    )
    for offset in range(0, len(slots), BATCH):
        chunk = slots[offset : offset + BATCH]
        ExperienceTimeSlot.objects.bulk_create(chunk, ignore_conflicts=True)
        bar.update(len(chunk))
    bar.close()
    added = ExperienceTimeSlot.objects.filter(experience__in=touched).count() - before
    stdout.write(f"experiences: {added} slots created over July {year}")

    if created or added:
        # bulk_create sends no post_save: clear what the receivers would have. Inside one
        # atomic block the invalidations go to Redis in a single pipelined round trip.
        with transaction.atomic():
            cache.invalidate("experiences:*")
            for e in touched:
                cache.invalidate(f"experience:{e.pk}:*")
