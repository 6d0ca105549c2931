"""Accepts raw bcrypt hashes ($2a$/$2b$/$2y$) imported from the original backend.

The original (Node, bcryptjs, cost 12) stores bare bcrypt strings in the password
column. Django identifies a hasher by the text before the first ``$``, which a bare
bcrypt hash does not have, so :meth:`accounts.models.User.check_password` reads such a
value as ``bcrypt_raw$<hash>`` and this hasher verifies it. On the first successful
login Django re-hashes the password with the preferred hasher (bcrypt_sha256).

bcryptjs silently uses only the first 72 bytes of a password; bcrypt 5 refuses longer
input instead, so the same truncation is applied here to keep imported logins working.
"""

from __future__ import annotations

from django.contrib.auth.hashers import BCryptPasswordHasher
from django.utils.crypto import constant_time_compare

RAW_PREFIXES = ("$2a$", "$2b$", "$2y$")
BCRYPT_MAX_BYTES = 72


def is_raw_bcrypt(encoded: str | None) -> bool:
    return bool(encoded) and encoded.startswith(RAW_PREFIXES)


class RawBcryptPasswordHasher(BCryptPasswordHasher):
    algorithm = "bcrypt_raw"

    def encode(self, password: str, salt: bytes | str) -> str:
        bcrypt = self._load_library()
        if isinstance(salt, str):
            salt = salt.encode("ascii")
        data = bcrypt.hashpw(password.encode()[:BCRYPT_MAX_BYTES], salt)
        return f"{self.algorithm}${data.decode('ascii')}"

    def verify(self, password: str, encoded: str) -> bool:
        if is_raw_bcrypt(encoded):
            encoded = f"{self.algorithm}${encoded}"
        algorithm, data = encoded.split("$", 1)
        assert algorithm == self.algorithm
        return constant_time_compare(encoded, self.encode(password, data))

    def harden_runtime(self, password: str, encoded: str) -> None:
        # Imported hashes carry their own cost; nothing to equalise.
        return None
