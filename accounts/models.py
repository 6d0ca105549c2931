from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

from accounts.hashers import RawBcryptPasswordHasher, is_raw_bcrypt
from guelaguetza.models import IdField


class Role(models.TextChoices):
    USER = "USER"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("role", Role.ADMIN)
        fields.setdefault("nombre", "Admin")
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A festival visitor (and, as host, a local).

    Logs in with email (docs/api.md#post-auth-login).
    """

    id = IdField()
    email = models.EmailField(max_length=254, unique=True)
    nombre = models.CharField(max_length=100)
    apellido = models.CharField(max_length=100, null=True, blank=True)
    avatar = models.URLField(max_length=500, null=True, blank=True)
    region = models.CharField(max_length=100, null=True, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.USER)
    banned_at = models.DateTimeField(null=True, blank=True)
    banned_reason = models.CharField(max_length=500, null=True, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["nombre"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        indexes = [models.Index(fields=["role"]), models.Index(fields=["banned_at"])]

    def __str__(self) -> str:
        return self.email

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None

    def check_password(self, raw_password: str) -> bool:
        """Also accept a bare bcrypt hash imported from the original database; a match
        re-hashes the password with the preferred hasher (see accounts.hashers)."""
        encoded = self.password
        if is_raw_bcrypt(encoded):
            encoded = f"{RawBcryptPasswordHasher.algorithm}${encoded}"

        def setter(raw: str) -> None:
            self.set_password(raw)
            self._password = None
            self.save(update_fields=["password"])

        return check_password(raw_password, encoded, setter)


class RefreshToken(models.Model):
    """One issued refresh token (by its ``jti``), for single-use rotation
    (docs/api.md#post-auth-refresh).

    Every login starts a family; each refresh marks its token used and issues the next
    one in the same family. Presenting a used token again is a replay: the whole family
    is revoked, so a stolen token and its descendants all stop working.
    """

    jti = models.CharField(primary_key=True, max_length=64)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    family_id = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["family_id"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.family_id}:{self.jti}"
