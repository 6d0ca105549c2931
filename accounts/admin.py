from django.contrib import admin
from django.db import models

from accounts.models import RefreshToken, User


class BannedFilter(admin.SimpleListFilter):
    title = "suspendido"
    parameter_name = "banned"

    def lookups(self, request, model_admin):
        return [("yes", "Sí"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(banned_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(banned_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("email", "nombre", "apellido", "role", "banned_at", "created_at")
    search_fields = ("email", "nombre")
    list_filter = ("role", BannedFilter)
    ordering = ("email",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ("id", "password", "created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Perfil", {"fields": ("nombre", "apellido", "avatar", "region")}),
        ("Rol y estado", {"fields": ("role", "banned_at", "banned_reason", "is_active")}),
        ("Staff", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Fechas", {"fields": ("last_login", "created_at", "updated_at")}),
    )


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    list_display = ("jti", "user", "family_id", "expires_at", "used_at", "revoked_at")
    search_fields = ("user__email", "family_id")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
