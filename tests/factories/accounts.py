"""Factories of the accounts app."""

import factory

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.mx")
    nombre = factory.Faker("first_name", locale="es_MX")
    apellido = factory.Faker("last_name", locale="es_MX")
    password = factory.django.Password("password123")
