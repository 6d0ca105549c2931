"""No usable secret or password in the repository (issue 15, deliverable 1).

Settings refuse to start without real secrets; `make run` generates them once into a
git-ignored file; the demo logins (public passwords) never open the Django admin; the
staff superuser's password is generated and printed once; the Docker stack takes its
secrets from docker/.env and seeds demo data only when asked.
"""

import io
import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts import seed
from accounts.models import User
from tests.factories import UserFactory

ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "scripts" / "ensure_secrets.py"
DEMO_LOGINS = [
    ("demo@guelaguetza.mx", "password123"),
    ("artesano@guelaguetza.mx", "password123"),
    ("admin@guelaguetza.mx", "admin123"),
]
# The defaults earlier versions shipped in settings.py and docker/compose.yml: public in
# the history, so they must never sign anything again.
OLD_DEFAULTS = [
    "dev-insecure-change-me-0123456789abcdef",
    "change-me-in-production-0123456789abcdef",
]


def _load_settings(tmp_path, **env):
    """Import the project settings in a fresh process with exactly these secrets."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_"))}
    base["DJANGO_SECRETS_FILE"] = str(tmp_path / "absent.env")
    base["DJANGO_SETTINGS_MODULE"] = "guelaguetza.settings"
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.SECRET_KEY, s.JWT_ACCESS_SECRET, s.JWT_REFRESH_SECRET]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"DJANGO_SECRET_KEY": ""},  # none (an empty value beats any file)
        {"DJANGO_SECRET_KEY": "short-secret"},
        {"DJANGO_SECRET_KEY": OLD_DEFAULTS[0]},
        {"DJANGO_SECRET_KEY": OLD_DEFAULTS[1]},
        {"DJANGO_SECRET_KEY": "k" * 40, "JWT_SECRET": "short"},
        {"DJANGO_SECRET_KEY": "k" * 40, "JWT_REFRESH_SECRET": "short"},
    ],
)
def test_settings_refuse_to_start_with_debug_off_and_no_or_a_weak_secret(tmp_path, env):
    result = _load_settings(tmp_path, DJANGO_DEBUG="false", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ensure_secrets.py" in result.stderr  # says how to get one


def test_settings_read_the_generated_secrets_file_and_the_environment_wins(tmp_path):
    path = tmp_path / "secrets.env"
    subprocess.run([sys.executable, SCRIPT, path, "DJANGO_SECRET_KEY", "JWT_SECRET"], check=True)
    values = dict(line.split("=", 1) for line in path.read_text().splitlines()[1:])

    result = _load_settings(tmp_path, DJANGO_DEBUG="false", DJANGO_SECRETS_FILE=str(path))
    assert result.returncode == 0, result.stderr
    secret, access, refresh = json.loads(result.stdout)
    assert secret == values["DJANGO_SECRET_KEY"]
    assert access == refresh == values["JWT_SECRET"] != secret

    mine = "e" * 48
    result = _load_settings(tmp_path, DJANGO_SECRETS_FILE=str(path), DJANGO_SECRET_KEY=mine)
    assert json.loads(result.stdout)[0] == mine


def test_ensure_secrets_generates_private_random_values_once_and_adds_missing_ones(tmp_path):
    path = tmp_path / "var" / "secrets.env"
    run = [sys.executable, SCRIPT, path]
    first = subprocess.run([*run, "A_SECRET", "B_SECRET"], capture_output=True, text=True)
    assert first.returncode == 0 and "generated A_SECRET, B_SECRET" in first.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    values = re.findall(r"^([A-Z_]+)=(\S+)$", before, re.M)
    assert [name for name, _ in values] == ["A_SECRET", "B_SECRET"]
    assert all(len(value) == 64 for _, value in values) and values[0][1] != values[1][1]

    again = subprocess.run([*run, "A_SECRET", "B_SECRET"], capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout == "" and path.read_text() == before

    subprocess.run([*run, "A_SECRET", "C_SECRET"], check=True, capture_output=True)
    after = path.read_text()
    assert after.startswith(before) and re.search(r"^C_SECRET=\S{64}$", after, re.M)


def test_make_run_generates_the_secrets_and_the_superuser_before_serving():
    plan = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    secrets_at = plan.index(
        "scripts/ensure_secrets.py var/secrets.env DJANGO_SECRET_KEY JWT_SECRET"
    )
    assert secrets_at < plan.index("manage.py migrate") < plan.index("manage.py seed_demo")
    assert plan.index("manage.py ensure_superuser") < plan.index("scripts/start.sh")


def test_git_ignores_the_local_secret_files():
    ignored = subprocess.run(
        ["git", "check-ignore", "var/secrets.env", "docker/.env", ".env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert ignored == ["var/secrets.env", "docker/.env", ".env"]


@pytest.mark.django_db
@pytest.mark.parametrize("secret", OLD_DEFAULTS)
def test_a_token_forged_with_an_old_default_secret_is_refused(api_client, user, secret):
    forged = jwt.encode(
        {"sub": user.pk, "type": "access", "jti": "x", "iat": 0, "exp": 2**40},
        secret,
        algorithm="HS256",
    )
    response = api_client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401


@pytest.mark.django_db
def test_demo_logins_work_in_the_api_but_never_open_the_django_admin(api_client):
    seed.run(options={}, stdout=io.StringIO())
    for email, password in DEMO_LOGINS:
        api = api_client.post(
            "/api/auth/login", {"email": email, "password": password}, format="json"
        )
        assert api.status_code == 200, email
        user = User.objects.get(email=email)
        assert not user.is_staff and not user.is_superuser, email

        browser = Client()
        form = browser.post("/admin/login/?next=/admin/", {"username": email, "password": password})
        assert form.status_code == 200  # the form again, with its error: no redirect
        assert browser.get("/admin/").status_code == 302  # still sent to the login page


@pytest.mark.django_db
def test_seed_takes_staff_away_from_a_demo_login_an_older_seed_made_superuser():
    UserFactory(email="admin@guelaguetza.mx", is_staff=True, is_superuser=True)
    out = io.StringIO()
    seed.run(options={}, stdout=out)
    admin = User.objects.get(email="admin@guelaguetza.mx")
    assert not admin.is_staff and not admin.is_superuser
    assert "admin@guelaguetza.mx is a demo login: no longer staff" in out.getvalue()


@pytest.mark.django_db
def test_ensure_superuser_prints_a_generated_password_once_and_it_opens_the_admin(
    monkeypatch,
):
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    out = io.StringIO()
    call_command("ensure_superuser", stdout=out)
    password = re.search(r"password \(shown only now\): (\S+)", out.getvalue()).group(1)
    assert len(password) >= 20

    browser = Client()
    login = browser.post(
        "/admin/login/?next=/admin/",
        {"username": "staff@guelaguetza.mx", "password": password},
    )
    assert login.status_code == 302 and login["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200

    again = io.StringIO()
    call_command("ensure_superuser", stdout=again)
    assert again.getvalue().strip() == "superuser staff@guelaguetza.mx exists"
    assert password not in again.getvalue()
    assert User.objects.get(email="staff@guelaguetza.mx").check_password(password)


@pytest.mark.django_db
def test_ensure_superuser_takes_email_and_password_from_the_environment(monkeypatch):
    given = "una-clave-larga-de-prueba-" + os.urandom(6).hex()
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Ops@Example.mx")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", given)
    out = io.StringIO()
    call_command("ensure_superuser", stdout=out)
    assert given not in out.getvalue()
    user = User.objects.get(email="ops@example.mx")
    assert user.is_staff and user.is_superuser and user.check_password(given)


@pytest.mark.django_db
def test_ensure_superuser_refuses_a_demo_login_email(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@guelaguetza.mx")
    with pytest.raises(CommandError, match="demo login"):
        call_command("ensure_superuser", stdout=io.StringIO())
    assert not User.objects.filter(email="admin@guelaguetza.mx").exists()


# -- Docker (no engine here: the files are checked by reading them) ----------------------
def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())


def test_compose_has_no_secret_literal_and_requires_docker_env():
    text = (ROOT / "docker" / "compose.yml").read_text()
    for name in ("POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert f"${{{name}:?" in text and f"${{{name}:-" not in text
    assert "DJANGO_SECRET_KEY:" not in text and "JWT_SECRET:" not in text
    assert ":postgres@" not in text
    assert _compose()["services"]["web"]["env_file"] == [".env"]


@pytest.mark.parametrize(("seed_demo", "seeds"), [(None, False), ("false", False), ("true", True)])
def test_compose_web_seeds_demo_data_only_when_asked(seed_demo, seeds):
    command = _compose()["services"]["web"]["command"].replace("$$", "$")
    argv = shlex.split(command)
    assert argv[:2] == ["bash", "-c"]
    # The container's command with every program replaced by an echo of its name.
    script = argv[2].replace("python manage.py", "echo").replace("exec bash", "echo")
    env = {"PATH": os.environ["PATH"], **({"SEED_DEMO": seed_demo} if seed_demo else {})}
    ran = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    steps = [line.split()[0] for line in ran.stdout.splitlines()]
    expected = [
        "migrate",
        "ensure_superuser",
        *(["seed_demo"] if seeds else []),
        "scripts/start.sh",
    ]
    assert steps == expected


def test_docker_image_excludes_local_secrets_and_builds_with_a_throwaway_key():
    ignored = (ROOT / "docker" / "Dockerfile.dockerignore").read_text().split()
    assert "var" in ignored and ".env" in ignored and "**/.env" in ignored
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert 'DJANGO_SECRET_KEY="$(python -c' in dockerfile
