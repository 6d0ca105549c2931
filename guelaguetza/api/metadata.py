"""OPTIONS on an API route: name, description, renderers and parsers.

DRF's SimpleMetadata also describes the POST/PUT body by building the view's
``serializer_class``; the views here parse with serializers of their own and have none,
so that step raised (a 500 on every OPTIONS). The schema at /api/schema describes bodies.
"""

from rest_framework.metadata import SimpleMetadata


class RouteMetadata(SimpleMetadata):
    def determine_actions(self, request, view) -> dict:
        return {}
