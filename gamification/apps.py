from django.apps import AppConfig


class GamificationConfig(AppConfig):
    name = "gamification"

    def ready(self) -> None:
        # Cache-invalidation receivers are connected here (STYLE.md: signals only for
        # cache invalidation, wired in one visible place).
        from django.db.models.signals import post_delete, post_save

        from gamification import signals
        from gamification.models import Badge, UserBadge, UserStats

        for signal, kind in ((post_save, "save"), (post_delete, "delete")):
            signal.connect(
                signals.stats_changed, sender=UserStats, dispatch_uid=f"gam_stats_{kind}"
            )
            signal.connect(
                signals.user_badge_changed, sender=UserBadge, dispatch_uid=f"gam_userbadge_{kind}"
            )
            signal.connect(signals.badge_changed, sender=Badge, dispatch_uid=f"gam_badge_{kind}")
