"""Staff views of stats and badges. XP and badges change only through the services:
stats are read-only here, and granting a badge (the SPECIAL ones are never automatic)
goes through badge_award, so its XP and cache invalidation follow; a grant the service
refuses shows its message (RefusalsAsMessages)."""

from django.contrib import admin, messages

from gamification.models import Badge, BadgeCategory, UserBadge, UserStats
from gamification.services import badge_award
from guelaguetza.admin_errors import RefusalsAsMessages


def grant_action(code: str):
    def grant(modeladmin, request, queryset) -> None:
        badge = Badge.objects.get(code=code)
        granted = 0
        for stats in queryset.select_related("user"):
            _, created = badge_award(user=stats.user, badge=badge)
            granted += created
        modeladmin.message_user(
            request, f"Insignia {code} otorgada a {granted} usuario(s).", messages.SUCCESS
        )

    return grant


@admin.register(UserStats)
class UserStatsAdmin(RefusalsAsMessages, admin.ModelAdmin):
    list_display = ("user", "xp", "level", "current_streak", "longest_streak", "last_visit_date")
    search_fields = ("user__email", "user__nombre")
    ordering = ("-xp", "user_id")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "xp",
        "level",
        "current_streak",
        "longest_streak",
        "last_visit_date",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def get_actions(self, request):
        """One "grant" action per staff-granted (SPECIAL) badge of the catalogue."""
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            return actions
        codes = Badge.objects.filter(category=BadgeCategory.SPECIAL).values_list("code", flat=True)
        for code in codes:
            name = f"grant_{code.lower()}"
            actions[name] = (grant_action(code), name, f"Otorgar insignia {code}")
        return actions


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category", "threshold", "xp_reward")
    list_filter = ("category",)
    search_fields = ("code", "name")
    ordering = ("category", "threshold")


@admin.register(UserBadge)
class UserBadgeAdmin(RefusalsAsMessages, admin.ModelAdmin):
    list_display = ("user", "badge", "unlocked_at")
    list_filter = ("badge",)
    search_fields = ("user__email", "user__nombre", "badge__code")
    list_select_related = ("user", "badge")
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        return ("user", "badge", "unlocked_at") if obj else ("unlocked_at",)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return  # nothing editable on an award
        # A new award from the admin is a grant: through badge_award, with its XP.
        user_badge, _ = badge_award(user=obj.user, badge=obj.badge)
        obj.pk, obj.unlocked_at = user_badge.pk, user_badge.unlocked_at
