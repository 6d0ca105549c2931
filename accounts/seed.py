"""seed_demo's accounts step: the three demo logins (docs/api.md#auth), plus ``--users N``
random users (emails ``seed.user.<n>@example.mx``, password ``password123``).

The demo logins' passwords are public (the front end's demo buttons send them), so they
are API users only: none is staff, and a database seeded by an older version that made
admin@ a superuser is put right here. The admin's staff account is
``manage.py ensure_superuser`` (generated password). Only `make run` seeds; the Docker
stack seeds when asked (SEED_DEMO=true).

Idempotent: existing emails are left alone (bulk_create with ignore_conflicts). The
random users share one password hash, computed once: bcrypt at cost 12 per user would
take minutes for thousands of users. bulk_create fires no post_save; new users are in
no cached payload, so there is nothing to invalidate.
"""

from __future__ import annotations

import random

from django.contrib.auth.hashers import make_password
from django.db.models import Q
from tqdm import tqdm

from accounts.models import Role, User

BATCH = 5000
DEMO_USERS = [
    # email, password, nombre, apellido, region, role (API role; never Django staff)
    ("demo@guelaguetza.mx", "password123", "Usuario", "Demo", "Valles Centrales", Role.USER),
    ("artesano@guelaguetza.mx", "password123", "Artesano", "Oaxaqueño", "Sierra Norte", Role.USER),
    ("admin@guelaguetza.mx", "admin123", "Admin", "Guelaguetza", "Valles Centrales", Role.ADMIN),
]
NOMBRES = ["María", "José", "Guadalupe", "Juan", "Rosa", "Pedro", "Carmen", "Luis", "Elena"]
APELLIDOS = ["López", "Martínez", "Hernández", "García", "Cruz", "Ruiz", "Santiago", "Pérez"]
REGIONES = ["Valles Centrales", "Sierra Norte", "Istmo", "Costa", "Mixteca", "Cañada"]


def add_arguments(parser) -> None:
    parser.add_argument("--users", type=int, default=0, help="random users to add (total)")


def run(*, options: dict, stdout) -> None:
    demo = [
        User(
            email=email,
            password=make_password(password),
            nombre=nombre,
            apellido=apellido,
            region=region,
            role=role,
            is_staff=False,
            is_superuser=False,
        )
        for email, password, nombre, apellido, region, role in DEMO_USERS
        if not User.objects.filter(email=email).exists()
    ]
    User.objects.bulk_create(demo, ignore_conflicts=True)
    stdout.write(f"accounts: {len(demo)} demo logins created ({3 - len(demo)} existed)")
    # Per row through save(): the user's cached auth fields (is_staff among them) are
    # cleared by the accounts receivers, as for any other edit.
    emails = [row[0] for row in DEMO_USERS]
    staff = User.objects.filter(email__in=emails).filter(Q(is_staff=True) | Q(is_superuser=True))
    for user in staff:
        user.is_staff = user.is_superuser = False
        user.save(update_fields=["is_staff", "is_superuser"])
        stdout.write(f"accounts: {user.email} is a demo login: no longer staff")

    wanted = max(0, int(options.get("users") or 0))
    if not wanted:
        return
    existing = set(
        User.objects.filter(email__startswith="seed.user.").values_list("email", flat=True)
    )
    todo = [n for n in range(1, wanted + 1) if f"seed.user.{n}@example.mx" not in existing]
    rng = random.Random(2024)
    password = make_password("password123")
    # disable=None: the bar shows on a terminal only (seed_demo --no-progress forces it off).
    bar = tqdm(
        total=len(todo),
        desc="accounts: random users",
        unit="user",
        disable=options.get("no_progress") or None,
    )
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        User.objects.bulk_create(
            [
                User(
                    email=f"seed.user.{n}@example.mx",
                    password=password,
                    nombre=rng.choice(NOMBRES),
                    apellido=rng.choice(APELLIDOS),
                    region=rng.choice(REGIONES),
                )
                for n in chunk
            ],
            ignore_conflicts=True,
        )
        bar.update(len(chunk))
    bar.close()
    stdout.write(f"accounts: {len(todo)} random users created ({wanted - len(todo)} existed)")
