"""Secret key and HTTPS settings. `manage.py check --deploy` is clean with the production environment in the README.

The secret key never has a public default: embedded (SQLite, the default DATABASE_URL) generates one into
LUNA_VAR_DIR/secret_key on first start; with a database server LUNA_SECRET_KEY must be set, and the
old public default or a short key is refused, so a deployment cannot sign sessions with a key anyone knows.
"""
import os

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from .env import VAR_DIR, env

PUBLIC_DEFAULT_KEY = "luna-embedded-insecure-key-change-me"
MIN_KEY_LENGTH = 50


def _generated_key() -> str:
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(get_random_secret_key())
    return path.read_text().strip()


def secret_key() -> str:
    key = env.str("LUNA_SECRET_KEY", default="")
    if key:
        if key == PUBLIC_DEFAULT_KEY or len(key) < MIN_KEY_LENGTH or len(set(key)) < 5:
            raise ImproperlyConfigured(f"LUNA_SECRET_KEY is the public default or too weak: use {MIN_KEY_LENGTH}+ random characters.")
        return key
    if env.str("DATABASE_URL", default="sqlite:").startswith("sqlite:"):
        return _generated_key()  # embedded: one machine, one SQLite file (also benchmarks' throwaway databases)
    raise ImproperlyConfigured(
        "LUNA_SECRET_KEY is not set: outside the embedded default (no DATABASE_URL) Luna refuses to start without its "
        "own secret key. Generate one with: python -c 'from django.core.management.utils import "
        "get_random_secret_key as k; print(k())'"
    )


SECRET_KEY = secret_key()
ALLOWED_HOSTS = env.list("LUNA_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("LUNA_CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS (production): cookies only over TLS, HSTS, redirect http → https; behind a TLS-terminating proxy
# LUNA_BEHIND_PROXY trusts its X-Forwarded-Proto. All off by default: `./luna.sh up` serves plain http on localhost.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("LUNA_SECURE_COOKIES", default=False)
SECURE_SSL_REDIRECT = env.bool("LUNA_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("LUNA_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("LUNA_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("LUNA_HSTS_PRELOAD", default=False)
if env.bool("LUNA_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
