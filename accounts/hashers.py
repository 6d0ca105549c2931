"""Accepts raw bcrypt hashes ($2a$/$2b$) imported from the original backend."""

from django.contrib.auth.hashers import BCryptPasswordHasher


class RawBcryptPasswordHasher(BCryptPasswordHasher):
    algorithm = "bcrypt_raw"
