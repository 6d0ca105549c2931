"""Create the database named in DATABASE_URL if it does not exist (for `make run`).

Connects to the server's ``postgres`` maintenance database with the same credentials.
"""

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql


class Command(BaseCommand):
    help = "Create the database of DATABASE_URL when missing."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="connection alias")

    def handle(self, *args, database: str, **options):
        cfg = settings.DATABASES[database]
        name = cfg["NAME"]
        params = {
            "dbname": "postgres",
            "host": cfg.get("HOST") or None,
            "port": cfg.get("PORT") or None,
            "user": cfg.get("USER") or None,
            "password": cfg.get("PASSWORD") or None,
            "connect_timeout": cfg.get("OPTIONS", {}).get("connect_timeout", 5),
            "autocommit": True,  # CREATE DATABASE cannot run in a transaction
        }
        try:
            with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [name]
                ).fetchone()
                if exists:
                    self.stdout.write(f"database {name!r} exists")
                    return
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            self.stdout.write(f"database {name!r} exists")  # created concurrently
            return
        except psycopg.Error as exc:
            raise CommandError(
                f"cannot create database {name!r} (DATABASE_URL): {exc}".strip()
            ) from exc
        self.stdout.write(self.style.SUCCESS(f"database {name!r} created"))
