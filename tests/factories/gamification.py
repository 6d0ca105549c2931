"""Factories of the gamification app."""

import factory

from gamification.levels import level_for
from gamification.models import Badge, UserBadge, UserStats
from tests.factories.accounts import UserFactory


class UserStatsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserStats

    user = factory.SubFactory(UserFactory)
    xp = 0
    level = factory.LazyAttribute(lambda o: level_for(o.xp))


class BadgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Badge

    code = factory.Sequence(lambda n: f"TEST_BADGE_{n}")
    name = factory.Sequence(lambda n: f"Insignia {n}")
    description = "Una insignia de prueba"
    icon = "🏅"
    category = "SPECIAL"
    xp_reward = 0
    threshold = 1


class UserBadgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserBadge

    user = factory.SubFactory(UserFactory)
    badge = factory.SubFactory(BadgeFactory)
