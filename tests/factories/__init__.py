"""factory-boy factories, one module per app (tests/factories/<app>.py).

Re-exported here, so ``from tests.factories import UserFactory`` works wherever the app
does not matter to the reader.
"""

from tests.factories.accounts import UserFactory
from tests.factories.events import EventFactory, EventRSVPFactory
from tests.factories.experiences import BookingFactory, ExperienceFactory, TimeSlotFactory
from tests.factories.gamification import BadgeFactory, UserBadgeFactory, UserStatsFactory

__all__ = [
    "BadgeFactory",
    "BookingFactory",
    "EventFactory",
    "EventRSVPFactory",
    "ExperienceFactory",
    "TimeSlotFactory",
    "UserBadgeFactory",
    "UserFactory",
    "UserStatsFactory",
]
